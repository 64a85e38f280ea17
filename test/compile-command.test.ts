/**
 * quiver compile and quiver route on a micro library (pretrained for 2 steps, adapters for one
 * epoch): the compiled folder's files belong together, and route's scores equal a reference
 * computed from the TensorFlow.js model's captures with the Arrow functions directly.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';
import { loadCheckpoint } from '../build/model/checkpoint.js';
import { summarizeOnnxModel } from '../build/onnx/onnx-model-info.js';
import { encodePrompt } from '../build/train/encode-examples.js';
import { loadTaskSet } from '../build/train/task-set.js';
import { LibraryIndex } from '../build/io/library-index.js';
import { aggregateRequestRouting } from '../shared/arrow/request-routing.js';
import { arrowLogits } from '../shared/arrow/arrow-logits.js';
import { siteWeights } from './helpers/site-weights.js';
import { decodeManifest } from '../shared/manifest/manifest-codec.js';
import { DEFAULT_ROUTING } from '../shared/manifest/schema.js';
import { COMPILED_FILES } from '../shared/router/compiled-folder.js';
import { runCli } from './helpers/run-cli.js';

const WORDS = ['apple', 'river', 'stone', 'cloud', 'tiger', 'maple', 'lemon', 'piano', 'robot', 'sugar', 'ocean', 'pearl'];
const TASKS: Record<string, (w: string) => { input: string; output: string }> = {
  'first-letter': (w) => ({ input: `First of ${w}:`, output: w[0]! }),
  'last-letter': (w) => ({ input: `Last of ${w}:`, output: w.at(-1)! }),
  'upper-first': (w) => ({ input: `Up ${w}:`, output: w[0]!.toUpperCase() }),
};

let root: string;
let lib: string;
let index: LibraryIndex;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'quiver-compile-'));
  const tasksDir = join(root, 'tasks');
  for (const [name, f] of Object.entries(TASKS)) {
    await mkdir(join(tasksDir, name), { recursive: true });
    const lines = WORDS.map((w) => JSON.stringify(f(w)));
    await writeFile(join(tasksDir, name, 'train.jsonl'), lines.slice(0, 8).join('\n') + '\n');
    await writeFile(join(tasksDir, name, 'valid.jsonl'), lines.slice(8, 10).join('\n') + '\n');
    await writeFile(join(tasksDir, name, 'test.jsonl'), lines.slice(10).join('\n') + '\n');
  }
  await writeFile(join(root, 'corpus.txt'), 'Some text.\n');
  const base = join(root, 'base');
  const micro = ['--hidden', '32', '--layers', '2', '--heads', '2', '--intermediate', '64', '--context', '32', '--batch-size', '8', '-q', '--backend', 'wasm'];
  const pre = await runCli(['pretrain', '--out', base, '--tasks', tasksDir, '--corpus', join(root, 'corpus.txt'), ...micro, '--steps', '2']);
  expect(pre.code, pre.stderr).toBe(0);
  lib = join(root, 'lib');
  const train = await runCli(['train', '--base', base, '--tasks', tasksDir, '--out', lib, '--epochs', '1', '--batch-size', '8', '--lr', '0.01', '--k', '2', '-j', '1', '-q', '--backend', 'wasm']);
  expect(train.code, train.stderr).toBe(0);
  index = LibraryIndex.parse(JSON.parse(await readFile(join(lib, 'library.json'), 'utf8')));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readManifest(dir: string) {
  const bytes = await readFile(join(dir, 'manifest.safetensors'));
  return decodeManifest(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Request routing computed from the TF.js model's captures and the Arrow functions, not through the router. */
async function referenceScores(dir: string, prompt: string, topK: number) {
  const manifest = await readManifest(dir);
  await selectBackend('wasm', { log: () => undefined });
  const { model, tokenizer } = await loadCheckpoint(join(lib, index.base));
  const ids = encodePrompt(tokenizer, prompt);
  const keys = manifest.metadata.modules.map((m) => m.key);
  const out = model.forward({ ids: Int32Array.from(ids), batchSize: 1, seqLen: ids.length }, { captures: keys });
  const E = manifest.metadata.adapters.length;
  const { temperature, threshold } = manifest.metadata.routing;
  const logits = manifest.metadata.modules.map((m) => arrowLogits(out.captures[m.key]!.dataSync(), ids.length, manifest.prototypes.get(m.key)!, E, m.dIn, manifest.centres.get(m.key)));
  const perModule = siteWeights(keys, logits, ids.length, E, { topK, temperature });
  tf.dispose([out.logits, ...Object.values(out.captures)]);
  model.dispose();
  const r = aggregateRequestRouting(perModule, ids.length, E, { topK, threshold });
  return { ids, ids2: manifest.metadata.adapters.map((a) => a.id), scores: Array.from(r.scores), selected: r.selected.map((s) => manifest.metadata.adapters[s.index]!.id) };
}

describe('quiver compile', () => {
  it('writes manifest, embedder, tokenizer; the manifest names the embedder by sha256 and the library\'s adapters', async () => {
    const out = join(root, 'compiled-all');
    const res = await runCli(['compile', lib, '--out', out, '--pool', 'all', '-q', '--backend', 'wasm']);
    expect(res.code, res.stderr).toBe(0);
    const mbc = index.clusters.length;
    expect(res.stdout).toMatch(new RegExp(`adapters\\s+${3 + mbc} \\(3 private, ${mbc} MBC\\)`));
    expect(res.stdout).toMatch(/modules\s+8 routed, embedder runs 2 layer/);
    expect(res.stdout).toMatch(/embedder\.onnx\s+[\d,]+ bytes/);
    expect(res.stdout).toMatch(/check\s+ONNX vs TensorFlow.js on \d+ tokens: Arrow logits max \|error\| \d/);
    expect((await readdir(out)).sort()).toEqual(['embedder.onnx', 'manifest.safetensors', 'tokenizer.json', 'tokenizer_config.json']);

    const onnx = await readFile(join(out, 'embedder.onnx'));
    const manifest = await readManifest(out);
    const md = manifest.metadata;
    expect(md.embedder).toEqual({ path: 'embedder.onnx', sha256: sha256(onnx), layers: 2 });
    expect(md.baseModel).toBe(index.baseModel);
    expect(md.modules.map((m) => m.key)).toEqual([0, 1].flatMap((l) => ['k_proj', 'o_proj', 'q_proj', 'v_proj'].map((n) => `model.layers.${l}.self_attn.${n}`)));
    const priv = md.adapters.filter((a) => a.kind === 'private');
    expect(priv.map((a) => [a.id, a.tasks, a.cluster])).toEqual(index.tasks.map((t) => [t.name, [t.name], t.cluster]));
    expect(md.adapters.filter((a) => a.kind === 'mbc').map((a) => [a.id, a.tasks, a.cluster])).toEqual(index.clusters.map((c) => [c.id, c.tasks, c.id]));
    const info = summarizeOnnxModel(onnx);
    expect(info.irVersion).toBeLessThanOrEqual(8);
    expect([...info.opsets].every(([domain, v]) => domain === '' && v <= 18)).toBe(true);
    expect(await readFile(join(out, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(lib, index.base, 'tokenizer.json'), 'utf8'));
    expect(JSON.parse(await readFile(join(out, 'tokenizer_config.json'), 'utf8'))).toEqual({ bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', model_max_length: 32 });

    // No path of this machine: each adapter is named by its folder inside the library.
    expect(md.adapters.map((a) => a.source)).toEqual([...index.tasks.map((t) => t.adapter), ...index.clusters.map((c) => c.adapter)]);
    expect(md.adapters.every((a) => a.source !== null && /^(private|mbc)\/[\w.-]+$/.test(a.source))).toBe(true);
    // The same library compiles to the same bytes, into any folder (here one level deeper).
    const again = join(root, 'elsewhere', 'compiled-again');
    expect((await runCli(['compile', lib, '--out', again, '--pool', 'all', '-q', '--backend', 'wasm'])).code).toBe(0);
    for (const f of COMPILED_FILES) expect(sha256(await readFile(join(again, f))), f).toBe(sha256(await readFile(join(out, f))));
  }, 60_000);

  it('--layers 1 keeps layer 0 only; --pool mbc takes the cluster adapters', async () => {
    const out = join(root, 'compiled-l1');
    const res = await runCli(['compile', lib, '--out', out, '--layers', '1', '--pool', 'mbc', '-q', '--backend', 'wasm']);
    expect(res.code, res.stderr).toBe(0);
    const md = (await readManifest(out)).metadata;
    expect(md.embedder?.layers).toBe(1);
    expect(new Set(md.modules.map((m) => m.layer))).toEqual(new Set([0]));
    expect(md.adapters.map((a) => [a.kind, a.id])).toEqual(index.clusters.map((c) => ['mbc', c.id]));
    const info = summarizeOnnxModel(await readFile(join(out, 'embedder.onnx')));
    expect(info.initializers.some((n) => n.startsWith('model.layers.1.'))).toBe(false);
  }, 60_000);

  it('--window N makes the router route longer prompts on their first N ids; more than the context is refused', async () => {
    const out = join(root, 'compiled-w8');
    const res = await runCli(['compile', lib, '--out', out, '--window', '8', '-q', '--backend', 'wasm']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(8);
    const routed = await runCli(['route', out, 'a prompt of more than eight tokens', '--json']);
    expect(routed.code, routed.stderr).toBe(0);
    expect(JSON.parse(routed.stdout).tokens).toBe(8);
    const tooLong = await runCli(['compile', lib, '--out', join(root, 'w-too-long'), '--window', '1000', '-q', '--backend', 'wasm']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/--window 1000 exceeds the base model's context/);
    await expect(readdir(join(root, 'w-too-long'))).rejects.toThrow();
  }, 60_000);

  it('refuses what it cannot do, and leaves no folder behind', async () => {
    const tooDeep = await runCli(['compile', lib, '--out', join(root, 'x'), '--layers', '3', '-q', '--backend', 'wasm']);
    expect(tooDeep.code).toBe(2);
    expect(tooDeep.stderr).toMatch(/--layers 3 exceeds the base model's 2 layers/);
    await expect(readdir(join(root, 'x'))).rejects.toThrow();
    expect((await runCli(['compile', join(root, 'tasks'), '--out', join(root, 'x'), '-q'])).stderr).toMatch(/no library.json/);
    // --out must not be a folder with other files: compile replaces it whole.
    const busy = await runCli(['compile', lib, '--out', lib, '-q', '--backend', 'wasm']);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/holds other files/);
    expect(await readdir(lib)).toContain('library.json');
  }, 60_000);
});

describe('quiver route', () => {
  it('prints every adapter\'s score and the chosen ones, equal to the TF.js + Arrow reference', async () => {
    const out = join(root, 'compiled-route');
    expect((await runCli(['compile', lib, '--out', out, '--pool', 'all', '-q', '--backend', 'wasm'])).code).toBe(0);
    const prompt = 'Last of tiger:';
    const res = await runCli(['route', out, prompt, '--top-k', '2', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const got = JSON.parse(res.stdout) as { tokens: number; routing: { topK: number }; selected: Array<{ id: string; weight: number }>; scores: Array<{ id: string; score: number; kind: string }>; belowThreshold: boolean };
    const ref = await referenceScores(out, prompt, 2);
    expect(got.tokens).toBe(ref.ids.length);
    expect(got.routing.topK).toBe(2);
    expect(got.scores.map((s) => s.id)).toEqual(ref.ids2);
    got.scores.forEach((s, i) => expect(Math.abs(s.score - ref.scores[i]!), s.id).toBeLessThan(1e-5));
    expect(got.selected.map((s) => s.id)).toEqual(ref.selected);
    expect(got.selected.reduce((a, s) => a + s.weight, 0)).toBeCloseTo(1, 6);
    expect(got.scores.filter((s) => s.kind === 'mbc')).toHaveLength(index.clusters.length);

    const text = await runCli(['route', out, prompt]);
    expect(text.stdout).toMatch(new RegExp(`selected  ${Array(Math.min(DEFAULT_ROUTING.topK, ref.ids2.length)).fill('\\S+ 0\\.\\d{3}').join(', ')}\n`)); // the manifest's top-k, at most every adapter
    for (const id of ref.ids2) expect(text.stdout).toMatch(new RegExp(`^[* ] ${id}\\s+(private|mbc)\\s+0\\.\\d{6}$`, 'm'));
  }, 60_000);

  it('stores as centres the mean module input over the library\'s training prompts, each task weighing the same; --no-centre stores none', async () => {
    const out = join(root, 'compiled-centres');
    expect((await runCli(['compile', lib, '--out', out, '-q', '--backend', 'wasm'])).code).toBe(0);
    const manifest = await readManifest(out);
    const keys = manifest.metadata.modules.map((m) => m.key);
    expect([...manifest.centres.keys()]).toEqual(keys);
    // By hand: every training prompt alone (no batch, no padding), a mean per task, then over tasks.
    await selectBackend('wasm', { log: () => undefined });
    const { model, tokenizer } = await loadCheckpoint(join(lib, index.base));
    const tasks = await loadTaskSet(join(lib, index.tasksDir));
    const want = new Map(keys.map((k) => [k, new Float64Array(manifest.metadata.modules.find((m) => m.key === k)!.dIn)]));
    for (const t of index.tasks) {
      const inputs = tasks.find((x) => x.name === t.name)!.splits.train.map((x) => x.input);
      expect(inputs.length).toBeLessThanOrEqual(64); // the micro tasks: every training prompt is read
      const sums = new Map(keys.map((k) => [k, new Float64Array(want.get(k)!.length)]));
      let rows = 0;
      for (const input of inputs) {
        const ids = encodePrompt(tokenizer, input);
        rows += ids.length;
        tf.tidy(() => {
          const { captures } = model.forward({ ids: Int32Array.from(ids), batchSize: 1, seqLen: ids.length }, { captures: keys });
          for (const k of keys) {
            const x = captures[k]!.dataSync();
            const s = sums.get(k)!;
            for (let i = 0; i < x.length; i++) s[i % s.length]! += x[i]!;
          }
        });
      }
      for (const k of keys) sums.get(k)!.forEach((v, i) => (want.get(k)![i]! += v / rows / index.tasks.length));
    }
    model.dispose();
    for (const k of keys) {
      const got = manifest.centres.get(k)!;
      want.get(k)!.forEach((v, i) => expect(Math.abs(got[i]! - v), `${k}[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
    }
    const plain = join(root, 'compiled-plain');
    const res = await runCli(['compile', lib, '--out', plain, '--no-centre', '-q', '--backend', 'wasm']);
    expect(res.code, res.stderr).toBe(0);
    const raw = await readManifest(plain);
    expect(raw.centres.size).toBe(0);
    expect(raw.metadata.modules.every((m) => m.centre === null)).toBe(true);
    expect((await runCli(['route', plain, 'Last of tiger:'])).code).toBe(0);
  }, 60_000);

  it('scales each prototype by the spread of its logit over the training prompts, each task weighing the same; --no-scale stores unit prototypes', async () => {
    const scaledDir = join(root, 'compiled-scaled');
    const unitDir = join(root, 'compiled-unit');
    expect((await runCli(['compile', lib, '--out', scaledDir, '-q', '--backend', 'wasm'])).code).toBe(0);
    const res = await runCli(['compile', lib, '--out', unitDir, '--no-scale', '-q', '--backend', 'wasm']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('unit prototypes (--no-scale)');
    expect((await runCli(['inspect', unitDir])).stdout).toMatch(/lengths\s+prototypes are unit vectors/);
    expect((await runCli(['inspect', scaledDir])).stdout).toMatch(/lengths\s+prototypes \d\.\d{3}–\d+\.\d{3} long: scaled/);
    const scaled = await readManifest(scaledDir);
    const unit = await readManifest(unitDir);
    const E = unit.metadata.adapters.length;
    for (const m of unit.metadata.modules) {
      const p = unit.prototypes.get(m.key)!;
      for (let e = 0; e < E; e++) expect(Math.hypot(...p.subarray(e * m.dIn, (e + 1) * m.dIn))).toBeCloseTo(1, 2);
    }
    // By hand: every training prompt alone, the centred logit |(x − c) · v| of each token with the
    // unit prototypes; per task its mean and variance; the variance of the equal mixture of the
    // tasks = mean of the variances + variance of the means (not the E[z²] − E[z]² of logit-scales.ts).
    await selectBackend('wasm', { log: () => undefined });
    const { model, tokenizer } = await loadCheckpoint(join(lib, index.base));
    const tasks = await loadTaskSet(join(lib, index.tasksDir));
    const perTask = new Map(unit.metadata.modules.map((m) => [m.key, [] as Array<{ mean: number[]; variance: number[] }>]));
    for (const t of index.tasks) {
      const values = new Map(unit.metadata.modules.map((m) => [m.key, Array.from({ length: E }, () => [] as number[])]));
      for (const input of tasks.find((x) => x.name === t.name)!.splits.train.map((x) => x.input)) {
        const ids = encodePrompt(tokenizer, input);
        tf.tidy(() => {
          const { captures } = model.forward({ ids: Int32Array.from(ids), batchSize: 1, seqLen: ids.length }, { captures: [...values.keys()] });
          for (const m of unit.metadata.modules) {
            const x = captures[m.key]!.dataSync();
            const c = scaled.centres.get(m.key)!;
            const p = unit.prototypes.get(m.key)!;
            for (let tok = 0; tok < ids.length; tok++) {
              for (let e = 0; e < E; e++) {
                let dot = 0;
                for (let d = 0; d < m.dIn; d++) dot += (x[tok * m.dIn + d]! - c[d]!) * p[e * m.dIn + d]!;
                values.get(m.key)![e]!.push(Math.abs(dot));
              }
            }
          }
        });
      }
      for (const [key, byAdapter] of values) {
        const mean = byAdapter.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
        perTask.get(key)!.push({ mean, variance: byAdapter.map((v, e) => v.reduce((a, b) => a + (b - mean[e]!) ** 2, 0) / v.length) });
      }
    }
    model.dispose();
    for (const m of unit.metadata.modules) {
      const stats = perTask.get(m.key)!;
      for (let e = 0; e < E; e++) {
        const grand = stats.reduce((a, s) => a + s.mean[e]!, 0) / stats.length;
        const variance = stats.reduce((a, s) => a + s.variance[e]! + (s.mean[e]! - grand) ** 2, 0) / stats.length;
        const sigma = Math.sqrt(variance);
        expect(sigma, `${m.key} adapter ${e}`).toBeGreaterThan(0);
        const got = scaled.prototypes.get(m.key)!.subarray(e * m.dIn, (e + 1) * m.dIn);
        const want = unit.prototypes.get(m.key)!.subarray(e * m.dIn, (e + 1) * m.dIn);
        // F16 storage on both sides: 2⁻¹¹ relative each, and the σ of F16-rounded prototypes.
        for (let d = 0; d < m.dIn; d++) expect(Math.abs(got[d]! - want[d]! / sigma), `${m.key} adapter ${e} [${d}]`).toBeLessThan(3e-3 * Math.max(Math.abs(want[d]! / sigma), 1 / sigma / Math.sqrt(m.dIn)));
      }
    }
  }, 90_000);

  it('refuses an embedder from another build and a manifest without one', async () => {
    const out = join(root, 'compiled-tamper');
    expect((await runCli(['compile', lib, '--out', out, '--layers', '1', '-q', '--backend', 'wasm'])).code).toBe(0);
    const onnx = await readFile(join(out, 'embedder.onnx'));
    await writeFile(join(out, 'embedder.onnx'), Buffer.concat([onnx, Buffer.from([0])]));
    const bad = await runCli(['route', out, 'Up apple:']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the files come from different builds/);
    const imported = join(root, 'imported');
    expect((await runCli(['import', join(lib, 'private'), '--out', imported, '-q'])).code).toBe(0);
    const none = await runCli(['route', imported, 'Up apple:']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no embedder .*quiver compile/);
  }, 60_000);
});
