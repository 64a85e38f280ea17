import type { RoutingDefaults } from '../manifest/schema.js';
import { arrowWeightsFromLogits } from './logit-routing.js';

/**
 * Per-token Arrow routing at one module (docs/method.md, "Arrow routing, per token"): for each token hidden
 * state x (the module's input, no extra normalisation), logits_e = |x · v_e|; keep the top k,
 * softmax over the kept logits / temperature (arrowWeightsFromLogits); the others get weight 0.
 *
 * @param hidden row-major [tokens, dIn]
 * @param prototypes row-major [adapters, dIn]
 * @returns row-major [tokens, adapters] weights; each row sums to 1
 */
export function arrowTokenWeights(
  hidden: ArrayLike<number>,
  tokens: number,
  prototypes: ArrayLike<number>,
  adapters: number,
  dIn: number,
  options: Pick<RoutingDefaults, 'topK' | 'temperature'>,
): Float32Array {
  if (hidden.length !== tokens * dIn) throw new RangeError(`hidden has ${hidden.length} values, expected ${tokens} × ${dIn}`);
  if (prototypes.length !== adapters * dIn)
    throw new RangeError(`prototypes have ${prototypes.length} values, expected ${adapters} × ${dIn}`);
  const logits = new Float64Array(tokens * adapters);
  for (let t = 0; t < tokens; t++) {
    const xOff = t * dIn;
    for (let e = 0; e < adapters; e++) {
      const pOff = e * dIn;
      let dot = 0;
      for (let i = 0; i < dIn; i++) dot += hidden[xOff + i]! * prototypes[pOff + i]!;
      logits[t * adapters + e] = Math.abs(dot);
    }
  }
  return arrowWeightsFromLogits(logits, tokens, adapters, options);
}
