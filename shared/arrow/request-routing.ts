import type { RoutingDefaults } from '../manifest/schema.js';
import { checkSiteMembers, siteMaxInto } from './input-site-votes.js';
import { checkTokenRoutingOptions, keptScratch, tokenTopKSoftmax } from './logit-routing.js';
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
  checkRequest(perModule.length, tokens, options);
  const sums = new Float64Array(adapters);
  for (const w of perModule) {
    if (w.length !== tokens * adapters) throw new RangeError(`weights have ${w.length} values, expected ${tokens} × ${adapters}`);
    for (let t = 0; t < tokens; t++) for (let e = 0; e < adapters; e++) sums[e] = sums[e]! + w[t * adapters + e]!;
  }
  return selectFromSums(sums, perModule.length * tokens, options);
}

/**
 * The same routing straight from Arrow logits, without a weight matrix per vote: each vote is a
 * group of modules' logits (row-major [tokens, adapters]; a site's, whose per-token logit is the
 * largest of its modules', input-site-votes.ts), each token's weights are tokenTopKSoftmax's
 * (logit-routing.ts), and they are added up as they come. Equal, bit for bit, to
 * aggregateRequestRouting over arrowWeightsFromLogits(siteLogits(group)): every adapter receives
 * the same float32 weights in the same order. What the edge runs on every request.
 */
export function requestRoutingFromLogits(
  votes: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>,
  tokens: number,
  adapters: number,
  options: Pick<RoutingDefaults, 'topK' | 'temperature' | 'threshold'>,
): RequestRouting {
  checkRequest(votes.length, tokens, options);
  checkTokenRoutingOptions(options);
  const k = Math.min(options.topK, adapters);
  const kept = keptScratch(k);
  const row = new Float64Array(adapters);
  const sums = new Float64Array(adapters);
  for (const members of votes) {
    if (members.length === 0) throw new RangeError('a vote needs at least one module');
    const n = checkSiteMembers(members);
    if (n !== tokens * adapters) throw new RangeError(`logits have ${n} values, expected ${tokens} × ${adapters}`);
    for (let t = 0; t < tokens; t++) {
      // One token's (site) logits in a float64 row: the top k then reads one array type only.
      siteMaxInto(members, t * adapters, adapters, row);
      const kk = tokenTopKSoftmax(row, 0, adapters, k, options.temperature, kept);
      for (let i = 0; i < kk; i++) {
        const e = kept.index[i]!;
        sums[e] = sums[e]! + kept.weight[i]!;
      }
    }
  }
  return selectFromSums(sums, votes.length * tokens, options);
}

function checkRequest(votes: number, tokens: number, options: Pick<RoutingDefaults, 'topK'>): void {
  if (votes === 0) throw new RangeError('request routing needs at least one routed module');
  if (tokens < 1) throw new RangeError('request routing needs at least one token');
  if (!(options.topK >= 1)) throw new RangeError(`topK must be >= 1, got ${options.topK}`);
}

/** Summed weights over `n` (vote, token) pairs → the mean scores, the top k, the threshold. */
function selectFromSums(sums: Float64Array, n: number, options: Pick<RoutingDefaults, 'topK' | 'threshold'>): RequestRouting {
  const scores = sums;
  for (let e = 0; e < scores.length; e++) scores[e] = scores[e]! / n;
  const kept = topKIndices(scores, options.topK);
  const best = kept.length > 0 ? scores[kept[0]!]! : 0;
  if (best < options.threshold) return { scores, selected: [], belowThreshold: true };
  const total = kept.reduce((s, e) => s + scores[e]!, 0);
  const selected = kept.map((index) => ({ index, weight: total > 0 ? scores[index]! / total : 1 / kept.length }));
  return { scores, selected, belowThreshold: false };
}
