import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { ADAPTER_CONFIG_FILE } from './peft-adapter.js';

const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/**
 * Each argument is an adapter folder, or a library folder whose direct subfolders are adapters
 * (taken in name order). Anything else is an error naming the argument.
 */
export async function expandAdapterDirs(args: ReadonlyArray<string>): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    const dir = resolve(arg);
    const st = await stat(dir).catch(() => null);
    if (!st) throw new QuiverInputError('no such folder', arg);
    if (!st.isDirectory()) throw new QuiverInputError('not a folder: pass PEFT adapter folders (adapter_config.json + adapter_model.safetensors)', arg);
    if (await isFile(join(dir, ADAPTER_CONFIG_FILE))) {
      out.push(dir);
      continue;
    }
    const subs: string[] = [];
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory() && (await isFile(join(dir, entry.name, ADAPTER_CONFIG_FILE)))) subs.push(join(dir, entry.name));
    }
    if (subs.length === 0)
      throw new QuiverInputError(`no ${ADAPTER_CONFIG_FILE} here or in any subfolder: not a PEFT adapter folder nor a folder of them`, arg);
    out.push(...subs);
  }
  return out;
}
