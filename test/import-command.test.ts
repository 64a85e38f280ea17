import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { arrowPrototype } from '../shared/arrow/prototype.js';
import { decodeManifest } from '../shared/manifest/manifest-codec.js';
import { Rng } from '../shared/random.js';
import { writeNumpyAdapter } from './helpers/peft-python.js';
import { runCli } from './helpers/run-cli.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

const KEYS = ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj'];

async function makeLibrary(root: string, ids: string[], opts: { base?: string; dIn?: number } = {}) {
  const dIn = opts.dIn ?? 16;
  const rng = new Rng(42);
  const weights: Record<string, Record<string, { a: Float32Array; b: Float32Array }>> = {};
  for (const id of ids) {
    weights[id] = {};
    const modules = KEYS.map((key) => {
      const a = rng.normals(4 * dIn, 0.2);
      const b = rng.normals(12 * 4, 0.2);
      weights[id]![key] = { a, b };
      return { key, a, b, r: 4, dIn, dOut: 12 };
    });
    await writePeftAdapter(join(root, id), { baseModel: opts.base ?? 'quiver/tiny', r: 4, loraAlpha: 16, targetModules: ['q_proj', 'v_proj'], modules });
  }
  return weights;
}

describe('quiver import', () => {
  it('writes a manifest whose prototypes are the adapters\' Arrow prototypes, and prints a summary', async () => {
    const root = await tempDir();
    const weights = await makeLibrary(join(root, 'lib'), ['alpha', 'beta', 'gamma']);
    const out = join(root, 'out');
    const res = await runCli(['import', join(root, 'lib'), '--out', out, '--top-k', '2']);
    expect(res.stderr).toMatch(/\[3\/3\] gamma/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/adapters\s+3/);
    expect(res.stdout).toMatch(/modules\s+4 routed \(d_in 16\)/);
    expect(res.stdout).toMatch(/per adapter/);
    const bytes = await readFile(join(out, 'manifest.safetensors'));
    expect(res.stdout).toContain(bytes.length.toLocaleString('en-US'));
    const m = await decodeManifest(new Uint8Array(bytes));
    expect(m.metadata.adapters.map((a) => [a.id, a.kind, a.r, a.loraAlpha])).toEqual([
      ['alpha', 'imported', 4, 16],
      ['beta', 'imported', 4, 16],
      ['gamma', 'imported', 4, 16],
    ]);
    expect(m.metadata.routing).toEqual({ topK: 2, temperature: 1, threshold: 0, votes: 'module' }); // import's default: one vote per module (IMPORT_ROUTING)
    expect(m.metadata.modules.map((x) => x.key)).toEqual(KEYS);
    for (const [i, id] of ['alpha', 'beta', 'gamma'].entries()) {
      for (const key of KEYS) {
        const { a, b } = weights[id]![key]!;
        const want = arrowPrototype(a, b, 4, 16, 12).vector;
        const got = m.prototypes.get(key)!.subarray(i * 16, (i + 1) * 16);
        want.forEach((x, j) => expect(got[j]).toBeCloseTo(x, 3));
      }
    }
    expect((await readdir(out)).sort()).toEqual(['manifest.safetensors']); // no temp files left
  });

  it('imports adapters written by numpy (F16) the same as listing their folders', async () => {
    const root = await tempDir();
    writeNumpyAdapter({ dir: join(root, 'lib', 'one'), family: 'llama', dtype: 'F16', seed: 1 });
    writeNumpyAdapter({ dir: join(root, 'lib', 'two'), family: 'llama', dtype: 'F16', seed: 2 });
    const a = await runCli(['import', join(root, 'lib'), '--out', join(root, 'a'), '-q']);
    const b = await runCli(['import', join(root, 'lib', 'one'), join(root, 'lib', 'two'), '--out', join(root, 'b'), '-q']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stderr).toBe('');
    const ma = await readFile(join(root, 'a', 'manifest.safetensors'));
    const mb = await readFile(join(root, 'b', 'manifest.safetensors'));
    // The manifest names no folder (source null), so two output folders get the same bytes.
    expect(Buffer.compare(ma, mb)).toBe(0);
    const da = await decodeManifest(new Uint8Array(ma));
    expect(da.metadata.modules.length).toBe(14);
    expect(da.metadata.adapters.map((x) => [x.id, x.source])).toEqual([['one', null], ['two', null]]);
  });

  it('refuses adapters of another base, naming the adapter, and leaves the old manifest intact', async () => {
    const root = await tempDir();
    await makeLibrary(join(root, 'lib'), ['alpha', 'beta']);
    await makeLibrary(join(root, 'other'), ['odd'], { base: 'someone/else' });
    const out = join(root, 'out');
    expect((await runCli(['import', join(root, 'lib'), '--out', out, '-q'])).code).toBe(0);
    const before = await readFile(join(out, 'manifest.safetensors'));
    const res = await runCli(['import', join(root, 'lib'), join(root, 'other', 'odd'), '--out', out, '-q']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/adapter "odd".*base model "someone\/else" differs from "quiver\/tiny"/);
    expect(await readFile(join(out, 'manifest.safetensors'))).toEqual(before);
    expect(await readdir(out)).toEqual(['manifest.safetensors']);
  });

  it('refuses other module shapes, naming the adapter', async () => {
    const root = await tempDir();
    await makeLibrary(join(root, 'lib'), ['alpha']);
    await makeLibrary(join(root, 'wide'), ['wide'], { dIn: 20 });
    const res = await runCli(['import', join(root, 'lib'), join(root, 'wide'), '--out', join(root, 'out')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/adapter "wide".*model.layers.0.self_attn.q_proj is 12×20 \(d_out×d_in\) but 12×16/);
  });

  it('explains bad arguments', async () => {
    const root = await tempDir();
    expect((await runCli(['import', join(root, 'nope'), '--out', root])).stderr).toMatch(/nope: no such folder/);
    await mkdir(join(root, 'empty'));
    expect((await runCli(['import', join(root, 'empty'), '--out', root])).stderr).toMatch(/empty: no adapter_config.json here or in any subfolder/);
    await writeFile(join(root, 'file'), 'x');
    expect((await runCli(['import', join(root, 'file'), '--out', root])).stderr).toMatch(/file: not a folder/);
    const r = await runCli(['import', root, '--out', root, '--top-k', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/"0" is not a positive integer/);
    expect((await runCli(['import', root])).stderr).toMatch(/required option '-o, --out <dir>'/);
  });
});

describe('quiver inspect', () => {
  it('prints the metadata as text and as JSON, and prototypes on request', async () => {
    const root = await tempDir();
    await makeLibrary(join(root, 'lib'), ['alpha', 'beta']);
    await runCli(['import', join(root, 'lib'), '--out', join(root, 'out'), '-q']);
    const text = await runCli(['inspect', join(root, 'out')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/base model quiver\/tiny/);
    expect(text.stdout).toMatch(/modules\s+4 routed: layers 0, 1 × self_attn.q_proj, self_attn.v_proj \(d_in 16\)/);
    expect(text.stdout).toMatch(/alpha\s+imported\s+4\s+16/);
    expect(text.stdout).toMatch(/lengths\s+prototypes are unit vectors/);
    expect(text.stdout).not.toMatch(/prototypes model/);
    const json = await runCli(['inspect', join(root, 'out', 'manifest.safetensors'), '--json', '--prototypes']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.metadata.adapters.map((a: { id: string }) => a.id)).toEqual(['alpha', 'beta']);
    const v: number[] = parsed.prototypes['model.layers.1.self_attn.v_proj'].beta;
    expect(v).toHaveLength(16);
    expect(v.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 2);
    const withProtos = await runCli(['inspect', join(root, 'out'), '--prototypes']);
    expect(withProtos.stdout).toMatch(/prototypes model.layers.0.self_attn.q_proj\n {2}alpha: \[/);
  });

  it('names a corrupted file', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'manifest.safetensors'), new Uint8Array(16));
    const res = await runCli(['inspect', root]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/manifest.safetensors/);
  });
});
