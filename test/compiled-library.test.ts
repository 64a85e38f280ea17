/**
 * library/compiled/ is what the worker bundles: it must be exactly what
 * `quiver compile library --out library/compiled` writes from the shipped library today.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPILED_FILES } from '../shared/router/compiled-folder.js';
import { runCli } from './helpers/run-cli.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('library/compiled', () => {
  it('is not stale: compiling the shipped library again gives the same bytes', async () => {
    const out = join(await tempDir(), 'compiled');
    const r = await runCli(['compile', 'library', '--out', out, '-q']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of COMPILED_FILES) {
      const [fresh, shipped] = await Promise.all([readFile(join(out, name)), readFile(join('library/compiled', name))]);
      expect(fresh.equals(shipped), `library/compiled/${name} is stale: run \`npm run build && node bin/quiver.js compile library --out library/compiled\` and commit it`).toBe(true);
    }
  }, 60_000);
});
