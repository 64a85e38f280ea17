/**
 * `npm run bench [name...]`: the benchmarks, each printing its figures and a ratio against a
 * baseline run in the same process. Names: import, embedder, serve, train-step.
 */
import { benchEmbedder, EMBEDDER_BENCH_CASES } from './embedder.js';
import { benchImport7b } from './import-7b.js';
import { benchServe } from './serve.js';
import { benchTrainStep } from './train-step.js';

const BENCHES: Record<string, () => Promise<void>> = {
  import: () => benchImport7b({ adapters: Number(process.env.QUIVER_BENCH_ADAPTERS ?? 4), layers: 32, d: 4096, r: 16 }),
  embedder: async () => {
    for (const c of EMBEDDER_BENCH_CASES) await benchEmbedder(c);
  },
  serve: benchServe,
  'train-step': () => benchTrainStep(),
};

const names = process.argv.slice(2);
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  await bench();
}
