import type { RoutingDefaults } from '../manifest/schema.js';
import { selectTopK } from './top-k.js';

/**
 * The second half of per-token Arrow routing, from logits already computed (logits_e = |x · v_e|,
 * e.g. by the ONNX embedder): keep the top k per token, softmax over the kept logits /
 * temperature; the others get weight 0. The top k are selectTopK's (top-k.ts: ties to the lower
 * index), the one top-k of routing.
 *
 * @param logits row-major [tokens, adapters]
 * @returns row-major [tokens, adapters] weights; each row sums to 1
 */
export function arrowWeightsFromLogits(logits: ArrayLike<number>, tokens: number, adapters: number, options: Pick<RoutingDefaults, 'topK' | 'temperature'>): Float32Array {
  if (logits.length !== tokens * adapters) throw new RangeError(`logits have ${logits.length} values, expected ${tokens} × ${adapters}`);
  if (!(options.temperature > 0)) throw new RangeError(`temperature must be > 0, got ${options.temperature}`);
  if (!(options.topK >= 1)) throw new RangeError(`topK must be >= 1, got ${options.topK}`);
  const k = Math.min(options.topK, adapters);
  const weights = new Float32Array(tokens * adapters);
  const keptIndex = new Int32Array(k);
  const keptValue = new Float64Array(k);
  for (let t = 0; t < tokens; t++) {
    const off = t * adapters;
    selectTopK(logits, off, adapters, k, keptIndex, keptValue);
    // A NaN logit ranks last and weighs as −∞ (0), as in the TensorFlow.js graph.
    for (let i = 0; i < k; i++) if (keptValue[i] !== keptValue[i]) keptValue[i] = -Infinity;
    const max = keptValue[0]!;
    let sum = 0;
    for (let i = 0; i < k; i++) sum += Math.exp((keptValue[i]! - max) / options.temperature);
    for (let i = 0; i < k; i++) weights[off + keptIndex[i]!] = Math.exp((keptValue[i]! - max) / options.temperature) / sum;
  }
  return weights;
}
