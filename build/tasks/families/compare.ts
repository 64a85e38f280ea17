import { intBetween } from '../sampling.js';
import { defineFamily, fillTemplate, type TaskDef } from '../task-def.js';

interface CompareTask extends TaskDef {
  /** How many numbers the prompt offers (2 or 3); the options are those numbers. */
  choices: 2 | 3;
  min: number;
  max: number;
  /** `$` before each number (prices). */
  dollars?: boolean;
}

const PLACEHOLDERS = ['a', 'b', 'c'] as const;

/** Pick the larger number among two or three, as multiple choice. */
export const compareTasks = defineFamily<CompareTask>({
  family: 'compare',
  skill: 'pick the larger of two or three numbers',
  multipleChoice: true,
  tasks: [
    { name: 'larger-2digit', template: 'Larger: {a} or {b}?', domain: '2-digit number', choices: 2, min: 10, max: 99 },
    { name: 'max-3digit-call', template: 'max({a}, {b}) =', domain: '3-digit number', choices: 2, min: 100, max: 999 },
    {
      name: 'costs-more-price',
      template: 'Which costs more: {a} or {b}?',
      domain: 'price, $1 to $99',
      choices: 2,
      min: 1,
      max: 99,
      dollars: true,
    },
    { name: 'biggest-of-three', template: 'Biggest of {a}, {b}, {c}:', domain: '2-digit number, three of them', choices: 3, min: 10, max: 99 },
    // Held out: a training template on a domain no training task sees (4-digit years).
    { name: 'larger-year', template: 'Larger: {a} or {b}?', domain: 'year, 1900 to 2030', choices: 2, min: 1900, max: 2030, heldOut: true },
    // Held out: a training template on another training domain (max-3digit-call's numbers).
    { name: 'larger-3digit', template: 'Larger: {a} or {b}?', domain: '3-digit number', choices: 2, min: 100, max: 999, heldOut: true },
  ],
  source: () => 'synthetic: seeded random numbers',
  draw: (task, { rng }) => {
    const numbers: number[] = [];
    while (numbers.length < task.choices) {
      const n = intBetween(rng, task.min, task.max);
      if (!numbers.includes(n)) numbers.push(n);
    }
    const options = numbers.map((n) => (task.dollars ? `$${n}` : String(n)));
    const values: Record<string, string> = {};
    options.forEach((option, i) => (values[PLACEHOLDERS[i] as string] = option));
    const largest = options[numbers.indexOf(Math.max(...numbers))] as string;
    return { input: fillTemplate(task.template, values), output: largest, options };
  },
});
