import type { RoutingDefaults } from '../manifest/schema.js';

/**
 * The second half of per-token Arrow routing, from logits already computed (logits_e = |x · v_e|,
 * e.g. by the ONNX embedder): keep the top k per token, softmax over the kept logits /
 * temperature; the others get weight 0. Ties go to the lower index, as in topKIndices. The top k
 * are picked by insertion into k slots, not a sort per token: this runs for every token of every
 * routed module of every request at the edge.
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
    let n = 0;
    for (let e = 0; e < adapters; e++) {
      const v = logits[off + e]!;
      if (n === k && !(v > keptValue[k - 1]!)) continue;
      let j = n < k ? n++ : k - 1;
      while (j > 0 && keptValue[j - 1]! < v) {
        keptValue[j] = keptValue[j - 1]!;
        keptIndex[j] = keptIndex[j - 1]!;
        j--;
      }
      keptValue[j] = v;
      keptIndex[j] = e;
    }
    const max = keptValue[0]!;
    let sum = 0;
    for (let i = 0; i < k; i++) sum += Math.exp((keptValue[i]! - max) / options.temperature);
    for (let i = 0; i < k; i++) weights[off + keptIndex[i]!] = Math.exp((keptValue[i]! - max) / options.temperature) / sum;
  }
  return weights;
}
