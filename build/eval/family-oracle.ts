/**
 * The family oracle: on a held-out task, the private adapter of the task's target family that
 * scores best on the task's valid split, then scored on its test split like every other system.
 * It is the reference for "routing found the right family": what the family's best adapter can do
 * on this surface form. The pick is made on valid, not test, so that the test score is one honest
 * measurement rather than the maximum of several noisy ones (on 100 examples and four or five
 * adapters that maximum runs a few points high); a task without a valid split is picked on test,
 * and the report says so.
 */
import type { TaskExample } from '../../shared/task-data.js';
import type { EvalLibrary } from './eval-library.js';
import type { EvalTask } from './eval-tasks.js';
import { fixedAdapter } from './row-adapter.js';
import { scoreTask } from './score-task.js';

export interface AdapterScore {
  /** Index of the private adapter in the library. */
  adapter: number;
  accuracy: number;
  loss: number;
}

/** The best score: highest accuracy, then lowest loss, then the first in library order. */
export function bestAdapter(scores: readonly AdapterScore[]): AdapterScore {
  if (scores.length === 0) throw new RangeError('the family oracle needs at least one adapter of the family');
  return scores.reduce((best, s) => (s.accuracy > best.accuracy || (s.accuracy === best.accuracy && s.loss < best.loss) ? s : best));
}

export interface FamilyOracleChoice extends AdapterScore {
  /** Where it was chosen: the task's valid split, or its test split when it has none. */
  split: 'valid' | 'test';
  /** Every candidate's score on that split, library order. */
  candidates: AdapterScore[];
}

/** Scores every adapter of the task's target family on its selection split and keeps the best. */
export function chooseFamilyAdapter(lib: EvalLibrary, task: EvalTask, opts: { maxNewTokens: number }): FamilyOracleChoice {
  const examples: readonly TaskExample[] = task.selection.examples;
  const candidates = task.familyAdapters.map((adapter) => {
    const s = scoreTask(lib.model, lib.tokenizer, examples, fixedAdapter(lib.privates.loras[adapter]!), { maxNewTokens: opts.maxNewTokens, samples: 0 });
    return { adapter, accuracy: s.accuracy, loss: s.loss };
  });
  return { ...bestAdapter(candidates), split: task.selection.split, candidates };
}
