/**
 * `n` items of `xs` spread evenly over it (index ⌊i·|xs|/n⌋), in order; all of them when there are
 * no more than `n`. The one rule by which the EVA init (build/train/eva-init.ts) and the centres of
 * centred routing (build/arrow/input-centres.ts) pick training prompts, so a split that lists its
 * tasks one after another (a cluster's union) is read across all of them.
 */
export function evenlySpaced<T>(xs: readonly T[], n: number): T[] {
  const k = Math.min(n, xs.length);
  return Array.from({ length: k }, (_, i) => xs[Math.floor((i * xs.length) / k)]!);
}
