import { defineFamily, fillTemplate } from '../task-def.js';
import { drawItem, itemSource, type ItemTask } from './items.js';

/** The last letter of a word: attend to the character just before the word ends. */
export const lastLetterTasks = defineFamily<ItemTask>({
  family: 'last-letter',
  skill: 'give the last letter of a word',
  multipleChoice: false,
  tasks: [
    { name: 'last-word-of', template: 'Last letter of {x}:', domain: 'word' },
    { name: 'last-name-ends', template: '{x} ends with', domain: 'name' },
    { name: 'last-adjective-qa', template: "Q: final letter in '{x}'? A:", domain: 'adjective' },
    { name: 'last-letters-call', template: 'last({x}) =', domain: 'letters' },
    // Held out: a training template on a domain no training task sees (animal names).
    { name: 'last-animal-of', template: 'Last letter of {x}:', domain: 'animal', heldOut: true },
  ],
  source: (task, pools) => itemSource(task.domain, pools),
  draw: (task, ctx) => {
    const x = drawItem(task.domain, ctx);
    return { input: fillTemplate(task.template, { x }), output: x.slice(-1) };
  },
});
