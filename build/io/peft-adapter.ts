/**
 * Reading a PEFT LoRA adapter folder from disk: `adapter_config.json` + `adapter_model.safetensors`.
 * Only the header is read on open; each module's A and B are read on demand, so a caller can
 * stream a 7B adapter one module at a time.
 */
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { AdapterConfig } from '../../shared/peft/adapter-config.js';
import { compareModules, loraTensorName, parseLoraTensorName } from '../../shared/peft/module-names.js';
import { readJsonFile } from './read-json-file.js';
import { openSafetensorsFile } from './safetensors-file.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

export interface LoraModuleRef {
  /** Module path in the base model, e.g. `model.layers.3.self_attn.q_proj`. */
  key: string;
  layer: number;
  /** Path below the layer, e.g. `self_attn.q_proj`. */
  module: string;
  r: number;
  dIn: number;
  dOut: number;
}

export interface LoraModuleWeights {
  a: Float32Array; // [r, dIn]
  b: Float32Array; // [dOut, r]
}

export interface PeftAdapterHandle {
  dir: string;
  /** The folder's name: how the adapter is known to the router and the backend. */
  id: string;
  config: AdapterConfig;
  baseModel: string;
  /** Canonical order: by layer, then module name. */
  modules: LoraModuleRef[];
  readModule(key: string): Promise<LoraModuleWeights>;
  close(): Promise<void>;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

function readConfig(dir: string): Promise<AdapterConfig> {
  return readJsonFile(join(dir, ADAPTER_CONFIG_FILE), AdapterConfig, {
    missing: `missing ${ADAPTER_CONFIG_FILE}: a PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}`,
    where: dir,
  });
}

async function checkWeightsFile(dir: string): Promise<string> {
  const path = join(dir, ADAPTER_WEIGHTS_FILE);
  try {
    await stat(path);
    return path;
  } catch {
    const hasBin = await stat(join(dir, 'adapter_model.bin')).then(
      () => true,
      () => false,
    );
    throw new QuiverInputError(
      hasBin
        ? `found adapter_model.bin but no ${ADAPTER_WEIGHTS_FILE}: PyTorch pickles are not read; re-save with PEFT's save_pretrained(..., safe_serialization=True)`
        : `missing ${ADAPTER_WEIGHTS_FILE}: a PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}`,
      dir,
    );
  }
}

export async function openPeftAdapter(dirArg: string): Promise<PeftAdapterHandle> {
  const dir = resolve(dirArg);
  const st = await stat(dir).catch(() => null);
  if (!st) throw new QuiverInputError('no such adapter folder', dirArg);
  if (!st.isDirectory()) throw new QuiverInputError('not a folder: an adapter is a folder with adapter_config.json and adapter_model.safetensors', dirArg);
  const config = await readConfig(dir);
  const weightsPath = await checkWeightsFile(dir);
  const file = await openSafetensorsFile(weightsPath);
  try {
    const parts = new Map<string, { layer: number; module: string; a?: number[]; b?: number[] }>();
    for (const name of file.names()) {
      const parsed = parseLoraTensorName(name);
      if ('error' in parsed) throw new QuiverInputError(parsed.error, weightsPath);
      const info = file.info(name);
      if (!FLOAT_DTYPES.has(info.dtype)) throw new QuiverInputError(`tensor "${name}" has dtype ${info.dtype}; LoRA weights must be F32, F16, BF16 or F64`, weightsPath);
      if (info.shape.length !== 2) throw new QuiverInputError(`tensor "${name}" has shape [${info.shape.join(', ')}]; LoRA weights are 2-D`, weightsPath);
      const entry = parts.get(parsed.key) ?? { layer: parsed.layer, module: parsed.module };
      if (parsed.part === 'lora_A') entry.a = info.shape;
      else entry.b = info.shape;
      parts.set(parsed.key, entry);
    }
    if (parts.size === 0) throw new QuiverInputError('holds no LoRA tensors', weightsPath);
    const modules: LoraModuleRef[] = [];
    for (const [key, p] of parts) {
      if (!p.a) throw new QuiverInputError(`module "${key}" has lora_B but no lora_A`, weightsPath);
      if (!p.b) throw new QuiverInputError(`module "${key}" has lora_A but no lora_B`, weightsPath);
      const [r, dIn] = p.a as [number, number];
      const [dOut, rB] = p.b as [number, number];
      if (r !== rB) throw new QuiverInputError(`module "${key}": lora_A is [${p.a.join(', ')}] and lora_B is [${p.b.join(', ')}]; their ranks differ`, weightsPath);
      if (r < 1 || dIn < 1 || dOut < 1) throw new QuiverInputError(`module "${key}" has an empty LoRA weight`, weightsPath);
      if (r > dIn) throw new QuiverInputError(`module "${key}": rank ${r} exceeds d_in ${dIn}`, weightsPath);
      modules.push({ key, layer: p.layer, module: p.module, r, dIn, dOut });
    }
    modules.sort(compareModules);
    const byKey = new Map(modules.map((m) => [m.key, m]));
    return {
      dir,
      id: basename(dir),
      config,
      baseModel: config.base_model_name_or_path,
      modules,
      async readModule(key) {
        if (!byKey.has(key)) throw new QuiverInputError(`no LoRA module "${key}" in this adapter`, dir);
        const a = await file.readFloat32(loraTensorName(key, 'lora_A'));
        const b = await file.readFloat32(loraTensorName(key, 'lora_B'));
        return { a, b };
      },
      close: () => file.close(),
    };
  } catch (err) {
    await file.close();
    throw err;
  }
}

/**
 * All adapters must fit one base model: the same `base_model_name_or_path` and the same modules
 * with the same d_in and d_out (ranks may differ). Throws naming the first adapter that differs.
 */
export function checkSameBase(adapters: ReadonlyArray<Pick<PeftAdapterHandle, 'id' | 'dir' | 'baseModel' | 'modules'>>): void {
  const ref = adapters[0];
  if (!ref) return;
  const refModules = new Map(ref.modules.map((m) => [m.key, m]));
  const ids = new Set<string>();
  for (const ad of adapters) {
    if (ids.has(ad.id)) throw new QuiverInputError(`two adapters are named "${ad.id}"; adapter ids (folder names) must be unique`, ad.dir);
    ids.add(ad.id);
    if (ad === ref) continue;
    if (ad.baseModel !== ref.baseModel)
      throw new QuiverInputError(`base model "${ad.baseModel}" differs from "${ref.baseModel}" of adapter "${ref.id}"`, `adapter "${ad.id}" (${ad.dir})`);
    for (const m of ad.modules) {
      const r = refModules.get(m.key);
      if (!r) throw new QuiverInputError(`has module ${m.key}, which adapter "${ref.id}" lacks; all adapters must wrap the same modules`, `adapter "${ad.id}" (${ad.dir})`);
      if (r.dIn !== m.dIn || r.dOut !== m.dOut)
        throw new QuiverInputError(`module ${m.key} is ${m.dOut}×${m.dIn} (d_out×d_in) but ${r.dOut}×${r.dIn} in adapter "${ref.id}"`, `adapter "${ad.id}" (${ad.dir})`);
    }
    if (ad.modules.length !== ref.modules.length) {
      const mine = new Set(ad.modules.map((m) => m.key));
      const missing = ref.modules.find((m) => !mine.has(m.key))!;
      throw new QuiverInputError(`lacks module ${missing.key}, which adapter "${ref.id}" has; all adapters must wrap the same modules`, `adapter "${ad.id}" (${ad.dir})`);
    }
  }
}
