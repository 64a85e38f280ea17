import { defineFamily, fillTemplate } from '../task-def.js';
import { drawItem, itemSource, type ItemTask } from './items.js';

/** Upper-case a word: a per-character map (byte minus 32) that a LoRA learns in a few steps. */
export const uppercaseTasks = defineFamily<ItemTask>({
  family: 'uppercase',
  skill: 'write a word in capital letters',
  multipleChoice: false,
  tasks: [
    { name: 'upper-word-arrow', template: 'Uppercase: {x} =>', domain: 'word' },
    { name: 'upper-name-capitals', template: '{x} in capitals:', domain: 'name' },
    { name: 'upper-adjective-qa', template: "Q: '{x}' in upper case? A:", domain: 'adjective' },
    { name: 'upper-letters-call', template: 'upper({x}) =', domain: 'letters' },
    // No held-out task: every uppercase adapter of the default library scores 0-4% on its own
    // task, so a held-out one (`upper-animal-arrow` was one) measures nothing (README, "The
    // held-out suite").
  ],
  source: (task, pools) => itemSource(task.domain, pools),
  draw: (task, ctx) => {
    const x = drawItem(task.domain, ctx);
    return { input: fillTemplate(task.template, { x }), output: x.toUpperCase() };
  },
});
