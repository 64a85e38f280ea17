import { intBetween } from '../sampling.js';
import { defineFamily, fillTemplate, type TaskDef } from '../task-def.js';

interface AddTask extends TaskDef {
  /** Range of the first addend; the second is always one digit, 1 to 9. */
  min: number;
  max: number;
  dollars?: boolean;
}

/** Add a one-digit number to a small number: one carry at most. */
export const addTasks = defineFamily<AddTask>({
  family: 'add',
  skill: 'add a one-digit number to a small number',
  multipleChoice: false,
  tasks: [
    { name: 'add-symbolic', template: '{a}+{b}=', domain: 'number 0-99 plus digit 1-9', min: 0, max: 99 },
    { name: 'add-plus-qa', template: 'What is {a} plus {b}?', domain: 'number 10-99 plus digit 1-9', min: 10, max: 99 },
    { name: 'add-more-than', template: '{b} more than {a} is', domain: 'number 100-199 plus digit 1-9', min: 100, max: 199 },
    { name: 'add-price-total', template: 'Total of {a} and {b}:', domain: 'price $1-$99 plus $1-$9', min: 1, max: 99, dollars: true },
    // No held-out task: every add adapter of the default library scores 0-1% on its own task, so
    // a held-out one (`add-to`, "Add {b} to {a}:", was one) measures nothing (README, "The held-out
    // suite").
  ],
  source: () => 'synthetic: seeded random numbers',
  draw: (task, { rng }) => {
    const a = intBetween(rng, task.min, task.max);
    const b = intBetween(rng, 1, 9);
    const show = (n: number): string => (task.dollars ? `$${n}` : String(n));
    return { input: fillTemplate(task.template, { a: show(a), b: show(b) }), output: show(a + b) };
  },
});
