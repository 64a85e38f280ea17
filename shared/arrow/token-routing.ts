import type { RoutingDefaults } from '../manifest/schema.js';
import { arrowLogits } from './arrow-logits.js';
import { arrowWeightsFromLogits } from './logit-routing.js';

/**
 * Per-token Arrow routing at one module (docs/method.md, "Arrow routing, per token"): for each token hidden
 * state x (the module's input, no extra normalisation), logits_e = |x · v_e| (arrowLogits); keep
 * the top k, softmax over the kept logits / temperature (arrowWeightsFromLogits); the others get
 * weight 0.
 *
 * @param hidden row-major [tokens, dIn]
 * @param prototypes row-major [adapters, dIn]
 * @param centre [dIn], subtracted from every x first (centred routing), or none
 * @returns row-major [tokens, adapters] weights; each row sums to 1
 */
export function arrowTokenWeights(
  hidden: ArrayLike<number>,
  tokens: number,
  prototypes: ArrayLike<number>,
  adapters: number,
  dIn: number,
  options: Pick<RoutingDefaults, 'topK' | 'temperature'>,
  centre?: ArrayLike<number>,
): Float32Array {
  return arrowWeightsFromLogits(arrowLogits(hidden, tokens, prototypes, adapters, dIn, centre), tokens, adapters, options);
}
