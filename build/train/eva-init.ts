/**
 * A data-aware start for a LoRA's A, after EVA (Paischer et al. 2024, "One Initialization to Rule
 * Them All"; PEFT's `init_lora_weights="eva"`): each module's A is the top-r right singular
 * vectors of the module's inputs on the task's own prompts (the base model's activations, no
 * adapter), B stays zero, so the adapter still starts as the base model.
 *
 * Why Quiver uses it (docs/method.md, "Initialisation of A"): a LoRA's Arrow prototype lies in the
 * row space of A, and in a short run A hardly leaves where it started. Started at random (PEFT's
 * Kaiming-uniform), every adapter's prototypes point at nothing of its task; started at the task's
 * own top input directions, they point at the task, and Arrow reads the task back from the
 * weights alone.
 *
 * `centred`: the singular vectors of the inputs minus their mean (the task's principal
 * directions rather than its raw second moment, whose top direction is mostly the mean shared by
 * every task).
 *
 * Differences from PEFT's EVA, on purpose: no rank redistribution (every module keeps rank r), the
 * SVD is exact (the eigenvectors of the d_in × d_in Gram matrix, float64 Jacobi) rather than
 * incremental, and each vector's sign is fixed (its largest component positive) so that a run is
 * reproducible.
 */
import * as tf from '@tensorflow/tfjs';
import { symmetricEigen } from '../../shared/linalg/symmetric-eigen.js';
import type { LlamaModel } from '../model/llama.js';
import type { LoraModule } from '../model/lora.js';
import { groupLayout, moduleKey, PROJECTION_GROUPS, type ProjectionName } from '../model/projections.js';

export type InitInputs = 'raw' | 'centred';

/** The top-`r` eigenvectors of the Gram matrix of `rows` ([n, dIn], optionally centred), as A [r, dIn]. */
export function topRightSingularVectors(rows: Float32Array, n: number, dIn: number, r: number, centred: boolean): Float32Array {
  if (rows.length !== n * dIn) throw new RangeError(`topRightSingularVectors: ${rows.length} values for [${n}, ${dIn}]`);
  if (r > dIn) throw new RangeError(`rank ${r} exceeds the input width ${dIn}`);
  const mean = new Float64Array(dIn);
  if (centred) {
    for (let i = 0; i < n; i++) for (let j = 0; j < dIn; j++) mean[j]! += rows[i * dIn + j]!;
    for (let j = 0; j < dIn; j++) mean[j]! /= n;
  }
  const gram = new Float64Array(dIn * dIn);
  const x = new Float64Array(dIn);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dIn; j++) x[j] = rows[i * dIn + j]! - mean[j]!;
    for (let p = 0; p < dIn; p++) {
      const xp = x[p]!;
      if (xp === 0) continue;
      const off = p * dIn;
      for (let q = p; q < dIn; q++) gram[off + q]! += xp * x[q]!;
    }
  }
  for (let p = 0; p < dIn; p++) for (let q = 0; q < p; q++) gram[p * dIn + q] = gram[q * dIn + p]!;
  const { vectors } = symmetricEigen(gram, dIn);
  const a = new Float32Array(r * dIn);
  for (let k = 0; k < r; k++) {
    let big = 0;
    for (let j = 0; j < dIn; j++) if (Math.abs(vectors[j * dIn + k]!) > Math.abs(big)) big = vectors[j * dIn + k]!;
    const sign = big < 0 ? -1 : 1;
    for (let j = 0; j < dIn; j++) a[k * dIn + j] = sign * vectors[j * dIn + k]!;
  }
  return a;
}

/**
 * PEFT-layout modules for `targetModules` in every layer: A from the base's inputs to the module
 * on `prompts` (their own tokens only, never padding), B zero. Projections that read one input
 * (q, k, v; gate, up) get the same A.
 */
export function evaInitModules(
  model: LlamaModel,
  prompts: readonly (readonly number[])[],
  opts: { r: number; targetModules: readonly ProjectionName[]; inputs: InitInputs; padId: number },
): LoraModule[] {
  if (prompts.length === 0) throw new RangeError('the EVA init needs at least one prompt');
  const config = model.config;
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(B * T).fill(opts.padId);
  prompts.forEach((p, b) => ids.set(p, b * T));
  const n = prompts.reduce((s, p) => s + p.length, 0);
  const slots: { layer: number; dIn: number; key: string; members: { name: ProjectionName; dOut: number }[] }[] = [];
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    for (const group of PROJECTION_GROUPS) {
      const layout = groupLayout(config, group);
      const members = layout.members.filter((m) => opts.targetModules.includes(m.name));
      if (members.length > 0) slots.push({ layer, dIn: layout.dIn, key: moduleKey(layer, members[0]!.name), members });
    }
  }
  // One forward pass of the base captures every module input: [B, T, dIn] each.
  // Read inside tidy, kept outside it (tidy would walk a returned typed array element by element).
  let captured: Float32Array[] = [];
  tf.tidy(() => {
    const { captures } = model.hiddenStates({ ids, batchSize: B, seqLen: T }, { captures: slots.map((s) => s.key) });
    captured = slots.map((s) => captures[s.key]!.dataSync() as Float32Array);
  });
  const out: LoraModule[] = [];
  slots.forEach((slot, i) => {
    const { dIn } = slot;
    const all = captured[i]!;
    // The prompts' own rows, never the padding.
    const rows = new Float32Array(n * dIn);
    let at = 0;
    prompts.forEach((p, b) => {
      rows.set(all.subarray(b * T * dIn, (b * T + p.length) * dIn), at);
      at += p.length * dIn;
    });
    const a = topRightSingularVectors(rows, n, dIn, opts.r, opts.inputs === 'centred');
    for (const m of slot.members) out.push({ key: moduleKey(slot.layer, m.name), a: a.slice(), b: new Float32Array(m.dOut * opts.r) });
  });
  return out;
}
