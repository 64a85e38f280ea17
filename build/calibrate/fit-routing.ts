/**
 * semantic-router's `fit`, for Arrow's three routing settings: every (top-k, temperature) of a grid
 * ranks the fit examples once; for each, the best threshold follows from the scores
 * (routing-accuracy.ts `bestThreshold`); the setting that routes most fit examples right wins.
 * Ties keep the manifest's current (top-k, temperature), so calibrating twice changes nothing, and
 * otherwise go to the earlier candidate of the grid, listed as the caller prefers (fewest adapters,
 * temperature nearest 1).
 */
import type { RoutingDefaults } from '../../shared/manifest/schema.js';
import { bestThreshold, correctCount, type Outcome } from './routing-accuracy.js';

export type Candidate = Pick<RoutingDefaults, 'topK' | 'temperature' | 'votes'>;

/** A labelled prompt with one Outcome per candidate (same order). */
export interface RankedExample {
  labels: readonly string[];
  outcomes: readonly Outcome[];
}

/**
 * The candidates to try: the grid (each top-k at most the adapters), the current setting first, in
 * order of preference (the current vote unit before the other, then smaller top-k, then temperature nearer 1).
 */
export function candidateGrid(current: Candidate, topKs: readonly number[], temperatures: readonly number[], votes: readonly Candidate['votes'][], adapters: number): Candidate[] {
  const units = [...new Set(votes)].sort((a, b) => Number(b === current.votes) - Number(a === current.votes));
  const grid = units.flatMap((v) =>
    [...new Set(topKs.map((k) => Math.min(k, adapters)))]
      .sort((a, b) => a - b)
      .flatMap((topK) => [...new Set(temperatures)].sort((a, b) => Math.abs(Math.log(a)) - Math.abs(Math.log(b)) || a - b).map((temperature) => ({ topK, temperature, votes: v }))),
  );
  const same = (c: Candidate) => c.topK === current.topK && c.temperature === current.temperature && c.votes === current.votes;
  const first = { topK: current.topK, temperature: current.temperature, votes: current.votes };
  return [first, ...grid.filter((c) => !same(c))];
}

/** Right answers of `examples` at candidate `c` (index into the candidates) and `threshold`. */
export function correctAt(examples: readonly RankedExample[], c: number, threshold: number, baseModel: string): number {
  return correctCount(examples.map((e) => ({ labels: e.labels, outcome: e.outcomes[c]! })), threshold, baseModel);
}

export interface Fitted {
  routing: RoutingDefaults;
  /** Index of the winning candidate. */
  candidate: number;
  /** Fit examples routed right with it. */
  correct: number;
}

export function fitRouting(examples: readonly RankedExample[], candidates: readonly Candidate[], baseModel: string): Fitted {
  if (examples.length === 0) throw new RangeError('fitting needs at least one example');
  let best: Fitted | null = null;
  candidates.forEach((cand, c) => {
    const { threshold, correct } = bestThreshold(examples.map((e) => ({ labels: e.labels, outcome: e.outcomes[c]! })), baseModel);
    if (best === null || correct > best.correct) best = { routing: { ...cand, threshold }, candidate: c, correct };
  });
  return best!;
}
