/**
 * Choosing the next token from a row of logits, as vLLM's and LoRAX's samplers do: temperature 0
 * is greedy (the first largest logit, as tf.argMax); otherwise the logits are divided by the
 * temperature, cut to the top k (0 = all) and then to the smallest set whose probability reaches
 * top p (1 = all), and one token is drawn from what is left with the request's own seeded
 * generator — so a seed gives the same text whatever else is in the batch. The logprob is that of
 * the chosen token under the distribution it was drawn from (LoRAX's `token.logprob`).
 */
import { Rng } from '../../shared/random.js';

export interface SamplingParams {
  temperature: number;
  /** Keep the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the most likely tokens whose probabilities sum to at least p; 1 keeps all. */
  topP: number;
  /** null: a fresh random seed (reported back, as LoRAX does). */
  seed: number | null;
}

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, seed: null };

export interface SampledToken {
  id: number;
  logprob: number;
}

function logSumExp(xs: ArrayLike<number>, keep: (i: number) => boolean): number {
  let max = -Infinity;
  for (let i = 0; i < xs.length; i++) if (keep(i) && xs[i]! > max) max = xs[i]!;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) if (keep(i)) sum += Math.exp(xs[i]! - max);
  return max + Math.log(sum);
}

export class TokenSampler {
  readonly greedy: boolean;
  /** The seed of the generator (null for greedy decoding). */
  readonly seed: number | null;
  private readonly rng: Rng | null;

  constructor(private readonly params: SamplingParams) {
    this.greedy = params.temperature === 0;
    this.seed = this.greedy ? null : (params.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.rng = this.seed === null ? null : new Rng(this.seed);
  }

  next(logits: Float32Array): SampledToken {
    if (this.greedy) {
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      return { id: best, logprob: logits[best]! - logSumExp(logits, () => true) };
    }
    const { temperature, topK, topP } = this.params;
    const scaled = Float64Array.from(logits, (x) => x / temperature);
    const order = Array.from(scaled.keys()).sort((a, b) => scaled[b]! - scaled[a]! || a - b);
    let kept = topK > 0 ? Math.min(topK, order.length) : order.length;
    if (topP < 1) {
      // Top-p over the top-k distribution, renormalised (vLLM's order: top-k, then top-p).
      const inTopK = new Set(order.slice(0, kept));
      const lse = logSumExp(scaled, (i) => inTopK.has(i));
      let mass = 0;
      for (let j = 0; j < kept; j++) {
        mass += Math.exp(scaled[order[j]!]! - lse);
        if (mass >= topP) {
          kept = j + 1;
          break;
        }
      }
    }
    const keptSet = new Set(order.slice(0, kept));
    const lse = logSumExp(scaled, (i) => keptSet.has(i));
    let u = this.rng!.next();
    for (let j = 0; j < kept; j++) {
      const id = order[j]!;
      const logprob = scaled[id]! - lse;
      u -= Math.exp(logprob);
      if (u < 0 || j === kept - 1) return { id, logprob };
    }
    throw new Error('unreachable: no token kept');
  }
}
