import type { DomainPools } from '../domains.js';
import { pick, randomLetters } from '../sampling.js';
import type { DrawContext, TaskDef } from '../task-def.js';

/**
 * Single-item domains shared by the character-level families. `letters` is random
 * lower-case strings: no meaning, only characters, so an adapter cannot lean on the word.
 */
export type ItemDomain = 'word' | 'name' | 'adjective' | 'animal' | 'letters';

export interface ItemTask extends TaskDef {
  domain: ItemDomain;
}

const LETTERS_MIN = 3;
const LETTERS_MAX = 8;

export function drawItem(domain: ItemDomain, { rng, pools }: DrawContext): string {
  return domain === 'letters' ? randomLetters(rng, LETTERS_MIN, LETTERS_MAX) : pick(rng, pools[domain].items);
}

/** An item of exactly `length` characters (for counting tasks, whose answers should be balanced). */
export function drawItemOfLength(domain: ItemDomain, length: number, { rng, pools }: DrawContext): string {
  if (domain === 'letters') return randomLetters(rng, length, length);
  const items = pools[domain].items.filter((item) => item.length === length);
  return pick(rng, items);
}

export function itemSource(domain: ItemDomain, pools: DomainPools): string {
  return domain === 'letters' ? 'synthetic: random lower-case letters (seeded)' : pools[domain].source;
}
