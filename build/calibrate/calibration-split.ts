/**
 * The two parts of the labelled examples: `fit` chooses the routing, `test` reports how it does on
 * prompts the choice never saw. Deterministic for a seed and stratified by label, so that every
 * adapter with two or more examples is in both parts in about the asked proportion (a label with
 * one example goes to `fit`). Within a label, a seeded Fisher–Yates shuffle picks the test examples;
 * each part keeps the file's order.
 */
import { Rng } from '../../shared/random.js';

export interface Split<T> {
  fit: T[];
  test: T[];
}

export function calibrationSplit<T extends { labels: readonly string[] }>(examples: readonly T[], testFraction: number, seed: number): Split<T> {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`the test fraction must lie in (0, 1), got ${testFraction}`);
  const groups = new Map<string, number[]>();
  examples.forEach((ex, i) => {
    const key = JSON.stringify([...ex.labels].sort());
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const rng = new Rng(seed);
  const inTest = new Set<number>();
  for (const key of [...groups.keys()].sort()) {
    const members = [...groups.get(key)!];
    for (let i = members.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const n = members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(testFraction * members.length)));
    for (const i of members.slice(0, n)) inTest.add(i);
  }
  return { fit: examples.filter((_, i) => !inTest.has(i)), test: examples.filter((_, i) => inTest.has(i)) };
}
