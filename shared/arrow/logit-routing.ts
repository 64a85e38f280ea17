import type { RoutingDefaults } from '../manifest/schema.js';
import { selectTopK } from './top-k.js';

/** Scratch for tokenTopKSoftmax: room for k kept adapters. */
export interface KeptScratch {
  index: Int32Array;
  value: Float64Array;
  /** The kept adapters' weights, float32 as in the [tokens, adapters] weight matrices. */
  weight: Float32Array;
}

export function keptScratch(k: number): KeptScratch {
  return { index: new Int32Array(k), value: new Float64Array(k), weight: new Float32Array(k) };
}

/** The per-token options' bounds, checked once per call rather than per token. */
export function checkTokenRoutingOptions(options: Pick<RoutingDefaults, 'topK' | 'temperature'>): void {
  if (!(options.temperature > 0)) throw new RangeError(`temperature must be > 0, got ${options.temperature}`);
  if (!(options.topK >= 1)) throw new RangeError(`topK must be >= 1, got ${options.topK}`);
}

/**
 * One token's routing weights from its logits `logits[offset .. offset + adapters)`: keep the top k
 * (selectTopK, top-k.ts: ties to the lower index), softmax over the kept logits / temperature;
 * writes the kept adapters (best first) to `kept.index` and their weights to `kept.weight`, and
 * returns how many, min(k, adapters). A NaN logit ranks last and weighs as −∞ (0), as in the
 * TensorFlow.js graph. The one per-token rule: arrowWeightsFromLogits writes it out per token,
 * request-level routing (request-routing.ts) adds it up without the matrix.
 */
export function tokenTopKSoftmax(logits: ArrayLike<number>, offset: number, adapters: number, k: number, temperature: number, kept: KeptScratch): number {
  const n = selectTopK(logits, offset, adapters, k, kept.index, kept.value);
  const value = kept.value;
  for (let i = 0; i < n; i++) if (value[i] !== value[i]) value[i] = -Infinity;
  const max = value[0]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((value[i]! - max) / temperature);
    value[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) kept.weight[i] = value[i]! / sum;
  return n;
}

/**
 * The second half of per-token Arrow routing, from logits already computed (logits_e = |x · v_e|,
 * e.g. by the ONNX embedder): tokenTopKSoftmax per token; the others get weight 0.
 *
 * @param logits row-major [tokens, adapters]
 * @returns row-major [tokens, adapters] weights; each row sums to 1
 */
export function arrowWeightsFromLogits(logits: ArrayLike<number>, tokens: number, adapters: number, options: Pick<RoutingDefaults, 'topK' | 'temperature'>): Float32Array {
  if (logits.length !== tokens * adapters) throw new RangeError(`logits have ${logits.length} values, expected ${tokens} × ${adapters}`);
  checkTokenRoutingOptions(options);
  const k = Math.min(options.topK, adapters);
  const weights = new Float32Array(tokens * adapters);
  const kept = keptScratch(k);
  for (let t = 0; t < tokens; t++) {
    const off = t * adapters;
    const n = tokenTopKSoftmax(logits, off, adapters, k, options.temperature, kept);
    for (let i = 0; i < n; i++) weights[off + kept.index[i]!] = kept.weight[i]!;
  }
  return weights;
}
