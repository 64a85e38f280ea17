import type { TaskSpec } from '../task-def.js';
import { addTasks } from './add.js';
import { capitalTasks } from './capital.js';
import { compareTasks } from './compare.js';
import { lastLetterTasks } from './last-letter.js';
import { lengthTasks } from './length.js';
import { reverseTasks } from './reverse.js';
import { sentimentTasks } from './sentiment.js';
import { uppercaseTasks } from './uppercase.js';

/** Every task of the default suite, family by family; suite.json keeps this order. */
export const SUITE_TASKS: readonly TaskSpec[] = [
  ...reverseTasks,
  ...uppercaseTasks,
  ...lastLetterTasks,
  ...lengthTasks,
  ...compareTasks,
  ...addTasks,
  ...capitalTasks,
  ...sentimentTasks,
];
