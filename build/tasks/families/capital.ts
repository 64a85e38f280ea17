import type { Country } from '../sources.js';
import { pickDistinct } from '../sampling.js';
import { defineFamily, fillTemplate, type TaskDef } from '../task-def.js';

/**
 * Countries per region, by ISO code; names and capitals come from countries-list. Kept to
 * names and capitals of at most 10 letters (so two-choice prompts fit in 48 bytes) and to
 * capitals that do not repeat the country's name (Kuwait City). Each region is a closed set
 * of facts that one adapter can memorise; every example asks a fact that training shows
 * too, with other distractors.
 */
const REGIONS = {
  europe: 'AT BE BG HR CZ DK EE FI FR DE GR HU IE IT LV LT NO PL PT RO RS SK SI ES SE UA',
  'asia-africa': 'CN JP IN TH VN ID IR IQ PK NP TR JO EG KE NG GH MA SN DZ UG ZM',
  'americas-oceania': 'CA CU JM NI CR BS BZ BB BR CL CO PE EC VE UY PY BO GY SR AU FJ WS TO',
} as const;
type Region = keyof typeof REGIONS;

const MAX_NAME_LENGTH = 10;

interface CapitalTask extends TaskDef {
  region: Region;
  /** Number of capitals offered: the right one plus distractors from the same region. */
  choices: 2 | 3;
}

const PLACEHOLDERS = ['a', 'b', 'c'] as const;

function regionCountries(region: Region, countries: ReadonlyMap<string, Country>): Country[] {
  return REGIONS[region].split(' ').map((code) => {
    const c = countries.get(code);
    if (!c) throw new Error(`capital family: countries-list has no ASCII entry for ${code}`);
    if (c.name.length > MAX_NAME_LENGTH || c.capital.length > MAX_NAME_LENGTH) {
      throw new Error(`capital family: ${c.name} / ${c.capital} is longer than ${MAX_NAME_LENGTH} letters`);
    }
    return c;
  });
}

/** Name a country's capital, choosing among capitals of the same region. */
export const capitalTasks = defineFamily<CapitalTask>({
  family: 'capital',
  skill: "choose a country's capital city",
  multipleChoice: true,
  tasks: [
    { name: 'capital-europe-of', template: 'Capital of {country}: {a} or {b}?', domain: 'European countries (26)', region: 'europe', choices: 2 },
    {
      name: 'capital-afrasia-slash',
      template: 'Capital, {country}: {a}/{b}/{c}?',
      domain: 'Asian and African countries (21)',
      region: 'asia-africa',
      choices: 3,
    },
    {
      name: 'capital-americas-arrow',
      template: '{country} -> capital: {a} or {b}?',
      domain: 'American and Oceanian countries (23)',
      region: 'americas-oceania',
      choices: 2,
    },
    // Held out: a new template on the European facts that capital-europe-of learns.
    {
      name: 'capital-europe-possessive',
      template: "{country}'s capital: {a} or {b}?",
      domain: 'European countries (26)',
      region: 'europe',
      choices: 2,
      heldOut: true,
    },
  ],
  source: (_task, pools) => pools.countriesSource,
  draw: (task, { rng, pools }) => {
    const countries = regionCountries(task.region, pools.countries);
    const [country, ...others] = pickDistinct(rng, countries, task.choices) as [Country, ...Country[]];
    // The right answer's position is random: place it among the distractors.
    const options = others.map((c) => c.capital);
    options.splice(rng.int(task.choices), 0, country.capital);
    const values: Record<string, string> = { country: country.name };
    options.forEach((option, i) => (values[PLACEHOLDERS[i] as string] = option));
    return { input: fillTemplate(task.template, values), output: country.capital, options };
  },
});
