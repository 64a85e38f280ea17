import type { Rng } from '../../shared/random.js';

/** Uniform integer in [lo, hi], both ends included. */
export function intBetween(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[rng.int(items.length)] as T;
}

/** `count` distinct items (Fisher–Yates on a copy, stopped after `count` swaps). */
export function pickDistinct<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (count > items.length) throw new Error(`cannot pick ${count} distinct items from ${items.length}`);
  const copy = items.slice();
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}

export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  return pickDistinct(rng, items, items.length);
}

/**
 * A seed for one task from the suite seed and the task's name (FNV-1a over the name, mixed
 * with the seed), so adding or reordering tasks leaves every other task's examples unchanged.
 */
export function taskSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
}

/** Random lower-case letter strings: a domain with no meaning, only characters. */
export function randomLetters(rng: Rng, minLength: number, maxLength: number): string {
  const length = intBetween(rng, minLength, maxLength);
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(97 + rng.int(26));
  return s;
}
