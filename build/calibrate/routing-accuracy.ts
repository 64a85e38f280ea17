/**
 * Routing accuracy, as `quiver calibrate` fits and reports it. A prompt is routed to the first
 * adapter the router selects (what vLLM and Workers AI serve, and the largest weight of a LoRAX
 * merge), or to the base model when its best score is under the threshold; it is right when that
 * is one of its labels — its adapter, or the base model's id for a prompt that should fall back
 * (semantic-router's `None`). Accuracy is the fraction of prompts routed right: every prompt
 * weighs the same.
 *
 * The threshold acts after the adapters are ranked, so one ranking per (top-k, temperature) — an
 * Outcome per prompt — gives the accuracy of every threshold at once.
 */

/** What routeRequest did with one prompt at one (top-k, temperature), before any threshold. */
export interface Outcome {
  /** The first adapter selected. */
  first: string;
  /** Its score (the best aggregated weight): under the threshold, the base model serves. */
  best: number;
}

export interface Scored {
  labels: readonly string[];
  outcome: Outcome;
}

/** Where a prompt goes at `threshold`: its first adapter, or the base model (routeRequest's rule: best < threshold). */
export function routedTo(outcome: Outcome, threshold: number, baseModel: string): string {
  return outcome.best < threshold ? baseModel : outcome.first;
}

/** How many of `items` are routed right at `threshold`. */
export function correctCount(items: readonly Scored[], threshold: number, baseModel: string): number {
  return items.reduce((n, it) => n + (it.labels.includes(routedTo(it.outcome, threshold, baseModel)) ? 1 : 0), 0);
}

/**
 * The threshold that routes most of `items` right, and how many. Sorted by best score, the
 * prompts under a threshold are a prefix: every prefix is tried once. Ties go to the smallest
 * threshold (fall back no more than the examples ask; with no base-labelled example that is 0).
 * The threshold written is the shortest decimal in the middle half of the gap between the two
 * scores it separates, so it neither hugs an example nor prints as 17 digits.
 */
export function bestThreshold(items: readonly Scored[], baseModel: string): { threshold: number; correct: number } {
  const sorted = [...items].sort((a, b) => a.outcome.best - b.outcome.best);
  const routedRight = sorted.map((it) => (it.labels.includes(it.outcome.first) ? 1 : 0));
  const baseRight = sorted.map((it) => (it.labels.includes(baseModel) ? 1 : 0));
  let suffix = routedRight.reduce<number>((a, b) => a + b, 0); // right among the routed (all, at threshold 0)
  let prefix = 0; // right among those that fall back
  let best = { threshold: 0, correct: suffix };
  for (let i = 1; i <= sorted.length; i++) {
    prefix += baseRight[i - 1]!;
    suffix -= routedRight[i - 1]!;
    const lo = sorted[i - 1]!.outcome.best;
    const hi = i < sorted.length ? sorted[i]!.outcome.best : 1; // the first i fall back: lo < t <= hi
    if (!(lo < hi) || prefix + suffix <= best.correct) continue;
    best = { threshold: shortestBetween(lo + (hi - lo) / 4, hi - (hi - lo) / 4), correct: prefix + suffix };
  }
  return best;
}

/** The decimal with fewest significant digits in [a, b] (a ≤ b). */
function shortestBetween(a: number, b: number): number {
  for (let digits = 1; digits <= 17; digits++) {
    const scale = 10 ** (digits - Math.floor(Math.log10(Math.max(Math.abs(b), Number.MIN_VALUE))) - 1);
    const t = Math.ceil(a * scale) / scale;
    if (t <= b) return Number(t.toPrecision(digits + 1));
  }
  return b;
}
