/**
 * Paired bootstrap interval for the difference in macro accuracy of two systems scored on the same
 * examples: is "A beats B by d points" more than the luck of which 100 examples a task has?
 *
 * The statistic is what eval's summary reports: the mean over tasks (each task weighs the same) of
 * accuracy(A) − accuracy(B). Each resample draws, within every task, as many examples as it has,
 * with replacement, and the same draws for both systems: the comparison is paired by example, so an
 * example both get right (or both wrong) adds nothing, and the interval measures disagreement only
 * — much narrower than two independent intervals. Stratifying by task keeps every task at its own
 * size, as the macro average does. The 95% interval is the 2.5th and 97.5th percentiles of the
 * resampled statistic (the percentile bootstrap).
 */
import { Rng } from '../../shared/random.js';

export interface BootstrapOptions {
  /** Resamples drawn (default 10,000: the percentiles' own Monte Carlo error is then well under 0.1 point on 100-example tasks). */
  resamples?: number;
  /** Seed of shared/random.ts's Rng: the same hits and seed give the same interval everywhere. */
  seed?: number;
}

/** Fractions (accuracy differences), not points. */
export interface PairedInterval {
  /** Mean over tasks of accuracy(a) − accuracy(b), on the examples as they are. */
  difference: number;
  /** 2.5th percentile of the resampled difference. */
  lo: number;
  /** 97.5th percentile. */
  hi: number;
}

/** Per-example paired differences of one task, d_i = a_i − b_i ∈ {−1, 0, 1}. */
function pairedDifferences(a: string, b: string, task: number): Int8Array {
  if (a.length !== b.length) throw new RangeError(`task ${task}: the two systems' hits cover ${a.length} and ${b.length} examples; a paired comparison needs the same examples`);
  if (a.length === 0) throw new RangeError(`task ${task} has no examples: its accuracy is undefined`);
  const d = new Int8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i) - 48;
    const y = b.charCodeAt(i) - 48;
    if ((x !== 0 && x !== 1) || (y !== 0 && y !== 1)) throw new RangeError(`task ${task}, example ${i}: hits are strings of '0' and '1'`);
    d[i] = x - y;
  }
  return d;
}

/** Linear interpolation between order statistics (the usual "type 7" quantile) of sorted `xs`. */
function quantile(xs: Float64Array, p: number): number {
  const h = p * (xs.length - 1);
  const i = Math.floor(h);
  return i + 1 < xs.length ? xs[i]! + (h - i) * (xs[i + 1]! - xs[i]!) : xs[i]!;
}

/**
 * a[t], b[t]: the two systems' hit strings on task t ('1' right, '0' wrong, one character per
 * example, example order). Throws RangeError unless both cover the same tasks and, per task, the
 * same non-zero number of examples.
 */
export function pairedBootstrap(a: readonly string[], b: readonly string[], opts: BootstrapOptions = {}): PairedInterval {
  const resamples = opts.resamples ?? 10_000;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, not ${resamples}`);
  if (a.length !== b.length) throw new RangeError(`the two systems cover ${a.length} and ${b.length} tasks; a paired comparison needs the same tasks`);
  if (a.length === 0) throw new RangeError('a paired comparison needs at least one task');
  const tasks = a.map((hits, t) => pairedDifferences(hits, b[t]!, t));
  const T = tasks.length;
  const sum = (d: Int8Array) => d.reduce((s, x) => s + x, 0);
  const difference = tasks.reduce((s, d) => s + sum(d) / d.length, 0) / T;

  // Only the tasks where the systems disagree somewhere move the statistic: a task of all-zero
  // differences contributes 0 to every resample, so it takes no draws (identical systems give
  // exactly [0, 0], and a near-identical pair costs little).
  const moving = tasks.filter((d) => d.some((x) => x !== 0));
  const rng = new Rng(opts.seed ?? 0);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (const d of moving) {
      const n = d.length;
      let s = 0;
      for (let i = 0; i < n; i++) s += d[rng.int(n)]!;
      total += s / n;
    }
    stats[r] = total / T;
  }
  stats.sort();
  return { difference, lo: quantile(stats, 0.025), hi: quantile(stats, 0.975) };
}
