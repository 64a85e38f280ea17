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
    // Held out: a new template on a training domain. (Animal names, the domain no training task
    // sees, were tried: every last-letter adapter stays at 8-33% on them, so that task measured
    // the domain, not the skill.)
    { name: 'last-word-final', template: 'Final letter of {x}:', domain: 'word', heldOut: true },
    // Held out: the same new template on names.
    { name: 'last-name-final', template: 'Final letter of {x}:', domain: 'name', heldOut: true },
  ],
  source: (task, pools) => itemSource(task.domain, pools),
  draw: (task, ctx) => {
    const x = drawItem(task.domain, ctx);
    return { input: fillTemplate(task.template, { x }), output: x.slice(-1) };
  },
});
