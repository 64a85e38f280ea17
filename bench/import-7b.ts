/**
 * `quiver import` at 7B scale: adapters shaped like Llama-2-7B (d 4096, 32 layers, q/k/v/o,
 * rank 16, F16 on disk — 33.6 MB each). Baseline, in the same process: only reading every
 * module's A and B from disk, the floor any import must pay. Prints ms per adapter and the ratio.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../build/commands/import.js';
import { openPeftAdapter } from '../build/io/peft-adapter.js';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { Rng } from '../shared/random.js';
import { IMPORT_ROUTING } from '../build/commands/import.js';

export interface ImportBenchOptions {
  adapters: number;
  layers: number;
  d: number;
  r: number;
}

export async function benchImport7b(opts: ImportBenchOptions): Promise<void> {
  const { adapters, layers, d, r } = opts;
  const root = await mkdtemp(join(tmpdir(), 'quiver-bench-import-'));
  try {
    const rng = new Rng(1);
    const a = rng.normals(r * d, 0.02);
    const b = rng.normals(d * r, 0.02);
    const dirs: string[] = [];
    for (let i = 0; i < adapters; i++) {
      const modules = [];
      for (let l = 0; l < layers; l++)
        for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) {
          // Same random block rotated per module so every prototype is a real computation.
          const shift = (i * 131 + l * 17 + m.length) % (r * d);
          modules.push({ key: `model.layers.${l}.self_attn.${m}`, a: rotate(a, shift), b: rotate(b, shift), r, dIn: d, dOut: d });
        }
      const dir = join(root, 'lib', `adapter-${i}`);
      await writePeftAdapter(dir, { baseModel: 'bench/llama-7b-shape', r, loraAlpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], modules, dtype: 'F16' });
      dirs.push(dir);
    }
    const t0 = performance.now();
    for (const dir of dirs) {
      const h = await openPeftAdapter(dir);
      for (const m of h.modules) await h.readModule(m.key);
      await h.close();
    }
    const readMs = (performance.now() - t0) / adapters;
    const rssBefore = process.memoryUsage().rss;
    const t1 = performance.now();
    const s = await runImport(dirs, { out: join(root, 'out'), ...IMPORT_ROUTING, quiet: true });
    const importMs = (performance.now() - t1) / adapters;
    const rssAfter = process.memoryUsage().rss;
    console.log(`import, ${adapters} adapters of ${layers} layers × q/k/v/o, d ${d}, r ${r} (F16 on disk):`);
    console.log(`  baseline (read A and B only)   ${readMs.toFixed(0)} ms / adapter`);
    console.log(`  quiver import (read + Arrow)   ${importMs.toFixed(0)} ms / adapter   ratio ${(importMs / readMs).toFixed(2)}× baseline`);
    console.log(`  manifest ${s.bytes.toLocaleString('en-US')} bytes; RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function rotate(x: Float32Array, shift: number): Float32Array {
  const out = new Float32Array(x.length);
  out.set(x.subarray(shift), 0);
  out.set(x.subarray(0, shift), x.length - shift);
  return out;
}
