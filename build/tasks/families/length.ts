import { intBetween } from '../sampling.js';
import { defineFamily, fillTemplate } from '../task-def.js';
import { drawItemOfLength, itemSource, type ItemTask } from './items.js';

/** 3–9 characters: every answer is one digit, and each length is drawn equally often. */
const MIN_LENGTH = 3;
const MAX_LENGTH = 9;

/** Count the characters of a word, answered as one digit. */
export const lengthTasks = defineFamily<ItemTask>({
  family: 'length',
  skill: 'count the letters of a word (one digit)',
  multipleChoice: false,
  tasks: [
    { name: 'length-word-howmany', template: 'How many letters in {x}?', domain: 'word' },
    { name: 'length-name-call', template: 'len({x}) =', domain: 'name' },
    { name: 'length-letters-count', template: 'Count: {x} ->', domain: 'letters' },
    // Held out: a training template on another training domain. (`length-word-has`, "{x} has how
    // many letters?" on words, was one: the family's best adapter reached 27%, under the 30% that
    // makes a held-out task measure routing.)
    { name: 'length-name-howmany', template: 'How many letters in {x}?', domain: 'name', heldOut: true },
  ],
  source: (task, pools) => itemSource(task.domain, pools),
  draw: (task, ctx) => {
    const length = intBetween(ctx.rng, MIN_LENGTH, MAX_LENGTH);
    const x = drawItemOfLength(task.domain, length, ctx);
    return { input: fillTemplate(task.template, { x }), output: String(length) };
  },
});
