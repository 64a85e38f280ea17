import { defineFamily, fillTemplate } from '../task-def.js';
import { drawItem, itemSource, type ItemTask } from './items.js';

/** Reverse a word: a pure copy-by-position skill that attention can do. */
export const reverseTasks = defineFamily<ItemTask>({
  family: 'reverse',
  skill: 'write the characters of a word in reverse order',
  multipleChoice: false,
  tasks: [
    { name: 'reverse-word-arrow', template: 'Reverse: {x} =>', domain: 'word' },
    { name: 'reverse-name-backwards', template: '{x} backwards:', domain: 'name' },
    { name: 'reverse-adjective-qa', template: "Q: reverse '{x}'? A:", domain: 'adjective' },
    { name: 'reverse-letters-call', template: 'rev({x}) =', domain: 'letters' },
    // No held-out task: every reverse adapter of the default library scores 0-1% on its own task,
    // so a held-out one (`reverse-word-spell`, "Spell '{x}' in reverse:", was one) measures nothing;
    // it comes back when the library learns to reverse (README, "The held-out suite").
  ],
  source: (task, pools) => itemSource(task.domain, pools),
  draw: (task, ctx) => {
    const x = drawItem(task.domain, ctx);
    return { input: fillTemplate(task.template, { x }), output: [...x].reverse().join('') };
  },
});
