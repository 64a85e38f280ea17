/**
 * The two streaming passes of MBC over adapters on disk (docs/method.md, "MBC"), sized so that
 * hundreds of 7B adapters (~17M floats each flattened) fit in memory: no pass ever holds more
 * than one flattened adapter, or one module of every adapter.
 *
 *   pass 1, adapter by adapter: flatten (every A then B of every module, canonical order) into
 *           one reused buffer and take the exact median magnitude (the 50% sparsity threshold);
 *   pass 2, module by module: gather that module from every adapter into an [N, module size]
 *           block and accumulate G = X Xᵀ of the sparsified vectors.
 *
 * G is all the rest of MBC needs (shared/mbc/mbc.ts).
 */
import { QuiverInputError } from '../../shared/errors.js';
import { accumulateGram } from '../../shared/mbc/gram.js';
import { medianMagnitudeInPlace } from '../../shared/mbc/median-threshold.js';
import type { LoraModuleRef, PeftAdapterHandle } from '../io/peft-adapter.js';

export type AdapterGramProgress =
  | { pass: 1; index: number; total: number; id: string }
  | { pass: 2; index: number; total: number; module: string };

export interface AdapterGram {
  /** Row-major [N, N] Gram matrix of the sparsified flattened adapters. */
  gram: Float64Array;
  /** Per adapter, the median magnitude: entries at or below it were zeroed. */
  thresholds: Float64Array;
  /** Length of one flattened adapter. */
  length: number;
}

export async function computeAdapterGram(
  adapters: readonly PeftAdapterHandle[],
  onProgress: (p: AdapterGramProgress) => void = () => {},
): Promise<AdapterGram> {
  const n = adapters.length;
  const modules = checkSameShapes(adapters);
  const sizes = modules.map((m) => m.r * m.dIn + m.dOut * m.r);
  const length = sizes.reduce((s, x) => s + x, 0);

  const thresholds = new Float64Array(n);
  const flat = new Float32Array(length);
  for (const [i, adapter] of adapters.entries()) {
    let offset = 0;
    for (const m of modules) {
      const { a, b } = await readChecked(adapter, m);
      flat.set(a, offset);
      flat.set(b, offset + a.length);
      offset += a.length + b.length;
    }
    try {
      thresholds[i] = medianMagnitudeInPlace(flat);
    } catch (err) {
      throw new QuiverInputError((err as Error).message, `adapter "${adapter.id}" (${adapter.dir})`);
    }
    onProgress({ pass: 1, index: i + 1, total: n, id: adapter.id });
  }

  const gram = new Float64Array(n * n);
  let block = new Float32Array(0);
  for (const [j, m] of modules.entries()) {
    const size = sizes[j]!;
    if (block.length !== n * size) block = new Float32Array(n * size);
    for (const [i, adapter] of adapters.entries()) {
      const { a, b } = await readChecked(adapter, m);
      block.set(a, i * size);
      block.set(b, i * size + a.length);
    }
    accumulateGram(gram, n, block, size, thresholds);
    onProgress({ pass: 2, index: j + 1, total: modules.length, module: m.key });
  }
  return { gram, thresholds, length };
}

/**
 * Flattened vectors are only comparable entry by entry if every adapter has the same modules with
 * the same shapes, ranks included (checkSameBase allows ranks to differ; MBC cannot).
 */
function checkSameShapes(adapters: readonly PeftAdapterHandle[]): LoraModuleRef[] {
  const ref = adapters[0];
  if (!ref) throw new RangeError('no adapters');
  for (const adapter of adapters.slice(1)) {
    const same =
      adapter.modules.length === ref.modules.length &&
      adapter.modules.every((m, j) => {
        const r = ref.modules[j]!;
        return m.key === r.key && m.r === r.r && m.dIn === r.dIn && m.dOut === r.dOut;
      });
    if (!same) {
      const differing = adapter.modules.find((m, j) => {
        const r = ref.modules[j];
        return !r || m.key !== r.key || m.r !== r.r || m.dIn !== r.dIn || m.dOut !== r.dOut;
      });
      const detail = differing ? `module ${differing.key} (r ${differing.r}, ${differing.dOut}×${differing.dIn})` : 'its module list';
      throw new QuiverInputError(
        `${detail} differs from adapter "${ref.id}": MBC compares flattened weights entry by entry, so all adapters need the same modules and ranks`,
        `adapter "${adapter.id}" (${adapter.dir})`,
      );
    }
  }
  return ref.modules;
}

async function readChecked(adapter: PeftAdapterHandle, m: LoraModuleRef): Promise<{ a: Float32Array; b: Float32Array }> {
  const w = await adapter.readModule(m.key);
  if (w.a.length !== m.r * m.dIn || w.b.length !== m.dOut * m.r) {
    throw new QuiverInputError(`module ${m.key} read back with the wrong number of values`, `adapter "${adapter.id}" (${adapter.dir})`);
  }
  return w;
}
