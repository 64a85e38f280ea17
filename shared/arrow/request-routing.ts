import type { RoutingDefaults } from '../manifest/schema.js';
import { topKIndices } from './top-k.js';

export interface RequestRouting {
  /** Aggregated weight of every adapter (mean over tokens and votes: routed modules or their input sites); sums to 1. */
  scores: Float64Array;
  /** The kept adapters, best first, weights renormalised to sum to 1; empty when below threshold. */
  selected: Array<{ index: number; weight: number }>;
  /** True when the best score was under the threshold and the request should go to the base model. */
  belowThreshold: boolean;
}

/**
 * Request-level Arrow (docs/method.md, "Request-level Arrow"): average the per-token routing weights over the prompt's tokens
 * and over every vote (route-request.ts gives one per input site of the routed modules), keep the
 * top k, renormalise.
 *
 * @param perModule one row-major [tokens, adapters] weight matrix per vote
 */
export function aggregateRequestRouting(
  perModule: ReadonlyArray<ArrayLike<number>>,
  tokens: number,
  adapters: number,
  options: Pick<RoutingDefaults, 'topK' | 'threshold'>,
): RequestRouting {
  if (perModule.length === 0) throw new RangeError('request routing needs at least one routed module');
  if (tokens < 1) throw new RangeError('request routing needs at least one token');
  if (!(options.topK >= 1)) throw new RangeError(`topK must be >= 1, got ${options.topK}`);
  const scores = new Float64Array(adapters);
  for (const w of perModule) {
    if (w.length !== tokens * adapters) throw new RangeError(`weights have ${w.length} values, expected ${tokens} × ${adapters}`);
    for (let t = 0; t < tokens; t++) for (let e = 0; e < adapters; e++) scores[e] = scores[e]! + w[t * adapters + e]!;
  }
  const n = perModule.length * tokens;
  for (let e = 0; e < adapters; e++) scores[e] = scores[e]! / n;
  const kept = topKIndices(scores, options.topK);
  const best = kept.length > 0 ? scores[kept[0]!]! : 0;
  if (best < options.threshold) return { scores, selected: [], belowThreshold: true };
  const total = kept.reduce((s, e) => s + scores[e]!, 0);
  const selected = kept.map((index) => ({ index, weight: total > 0 ? scores[index]! / total : 1 / kept.length }));
  return { scores, selected, belowThreshold: false };
}
