/**
 * Times MBC on a synthetic library: 50 adapters × (8 layers × q,k,v,o × d 1024, r 16), i.e. 1M
 * floats each flattened, in 5 planted groups. Run: `npm run build && node dist/bench/mbc-cluster.js [adapters]`.
 * Reports the two streaming passes and the clustering separately, and whether the groups came back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPeftAdapter, type PeftAdapterHandle } from '../build/io/peft-adapter.js';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { computeAdapterGram } from '../build/mbc/adapter-gram.js';
import { renumberByFirstAppearance } from '../shared/mbc/cluster-kmeans.js';
import { accumulateGram } from '../shared/mbc/gram.js';
import { mbcFromGram } from '../shared/mbc/mbc.js';
import { Rng } from '../shared/random.js';

const N = Number(process.argv[2] ?? 50);
const GROUPS = 5;
const LAYERS = 8;
const MODULES = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj'];
const D = 1024;
const R = 16;

const root = await mkdtemp(join(tmpdir(), 'quiver-bench-mbc-'));
try {
  const rng = new Rng(1);
  const keys = Array.from({ length: LAYERS }, (_, l) => MODULES.map((m) => `model.layers.${l}.${m}`)).flat();
  const bases = Array.from({ length: GROUPS }, () => keys.map(() => ({ a: rng.normals(R * D, 0.02), b: rng.normals(D * R, 0.02) })));
  const truth: number[] = [];
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const g = i % GROUPS;
    truth.push(g);
    const noisy = (x: Float32Array) => Float32Array.from(x, (v) => v + 0.01 * rng.normal());
    const modules = keys.map((key, j) => ({ key, a: noisy(bases[g]![j]!.a), b: noisy(bases[g]![j]!.b), r: R, dIn: D, dOut: D }));
    await writePeftAdapter(join(root, `a${String(i).padStart(3, '0')}`), { baseModel: 'bench/base', r: R, loraAlpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], modules });
  }
  const length = keys.length * 2 * R * D;
  console.log(`wrote ${N} adapters (${length.toLocaleString('en-US')} floats each) in ${((performance.now() - t) / 1000).toFixed(1)}s`);

  const handles: PeftAdapterHandle[] = [];
  for (let i = 0; i < N; i++) handles.push(await openPeftAdapter(join(root, `a${String(i).padStart(3, '0')}`)));
  t = performance.now();
  let tMedians = 0;
  const { gram } = await computeAdapterGram(handles, (p) => {
    if (p.pass === 1 && p.index === p.total) tMedians = performance.now() - t;
  });
  const tGram = performance.now() - t - tMedians;
  for (const h of handles) await h.close();
  t = performance.now();
  const fixed = mbcFromGram(gram, N, { k: GROUPS, dims: 64, seed: 0, restarts: 10 });
  const tFixed = performance.now() - t;
  t = performance.now();
  const auto = mbcFromGram(gram, N, { k: 'auto', dims: 64, seed: 0, restarts: 10 });
  const tAuto = performance.now() - t;
  const expected = renumberByFirstAppearance(truth);
  const gflop = ((N * (N + 1)) / 2) * length / 1e9;
  console.log(`pass 1 (read + exact medians): ${(tMedians / 1000).toFixed(2)}s`);
  console.log(`pass 2 (read + Gram, ${gflop.toFixed(1)} G multiply-adds): ${(tGram / 1000).toFixed(2)}s`);
  console.log(`clustering from G, k=${GROUPS}: ${(tFixed / 1000).toFixed(2)}s; recovered groups: ${JSON.stringify(fixed.labels) === JSON.stringify(expected)}`);
  console.log(`clustering from G, --auto (k 2..10): ${(tAuto / 1000).toFixed(2)}s; chose k=${auto.k}`);
  // The Gram kernel alone, on in-memory blocks of the same shape (pass 2 minus the reads).
  const moduleSize = 2 * R * D;
  const block = rng.normals(N * moduleSize);
  t = performance.now();
  accumulateGram(new Float64Array(N * N), N, block, moduleSize, new Float64Array(N).fill(0.67));
  const kernel = ((performance.now() - t) * keys.length) / 1000;
  console.log(`  of which the Gram kernel alone: ${kernel.toFixed(2)}s (${(gflop / kernel).toFixed(2)} G multiply-adds/s)`);
  console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
} finally {
  await rm(root, { recursive: true, force: true });
}
