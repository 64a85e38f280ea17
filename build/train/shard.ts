import { InvalidArgumentError } from 'commander';

/** `--shard i/N`: this machine trains the items whose index ≡ i−1 (mod N), 1-based i. */
export interface Shard {
  index: number; // 1-based
  count: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new InvalidArgumentError(`"${value}" is not a shard i/N with 1 ≤ i ≤ N (e.g. 2/4).`);
  return { index, count };
}

/** The deterministic subset of `items` (already in a stable order) that belongs to `shard`. */
export function inShard<T>(items: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...items];
  return items.filter((_, i) => i % shard.count === shard.index - 1);
}
