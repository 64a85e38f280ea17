/**
 * The centres of centred routing (docs/method.md, "Centred routing"): per routed module, the mean
 * input of the base model to that module over the library's training prompts — each task's mean
 * over its prompt tokens, then the mean of those, so every task weighs the same. Routing scores
 * |(x − c) · v| instead of |x · v|: every prompt's module inputs share a large common part, which
 * makes whichever prototypes lean towards it win for every prompt (the "hub" adapters); removing it
 * leaves what tells the tasks apart.
 *
 * `quiver compile` stores them in the manifest; eval's in-memory manifest computes them the same
 * way here, so what eval measures is what the edge serves.
 */
import { resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { evenlySpaced } from '../../shared/evenly-spaced.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import type { LibraryIndex } from '../io/library-index.js';
import type { LlamaModel } from '../model/llama.js';
import { encodePrompt } from '../train/encode-examples.js';
import { loadTaskSet } from '../train/task-set.js';
import { capturePrompts } from './prompt-captures.js';

/** Training prompts per task the centres read (spread evenly over each training split). */
export const CENTRE_PROMPTS_PER_TASK = 64;

/** Per module key, the mean over `taskPrompts` (one list of prompt id sequences per task) of each task's mean module input. */
export function inputCentres(model: LlamaModel, taskPrompts: ReadonlyArray<ReadonlyArray<readonly number[]>>, keys: readonly string[], padId: number): Map<string, Float32Array> {
  const sums = new Map<string, Float64Array>();
  let tasks = 0;
  for (const prompts of taskPrompts) {
    if (prompts.length === 0) continue;
    tasks++;
    const c = capturePrompts(model, prompts, keys, padId, (_, x) => x);
    keys.forEach((key, j) => {
      const x = c.data[j]!;
      const dIn = x.length / (prompts.length * c.seqLen);
      const own = new Float64Array(dIn);
      c.forEachToken((row) => {
        for (let d = 0; d < dIn; d++) own[d]! += x[row * dIn + d]!;
      });
      const sum = sums.get(key) ?? new Float64Array(dIn);
      for (let d = 0; d < dIn; d++) sum[d]! += own[d]! / c.rows;
      sums.set(key, sum);
    });
  }
  if (tasks === 0) throw new RangeError('centred routing needs at least one prompt');
  return new Map([...sums].map(([k, s]) => [k, Float32Array.from(s, (v) => v / tasks)]));
}

/** `perTask` prompts of each task's training split, evenly spaced, as the router encodes them. */
export function trainingPrompts(tokenizer: Tokenizer, inputs: readonly string[], perTask = CENTRE_PROMPTS_PER_TASK): number[][] {
  return evenlySpaced(inputs, perTask).map((input) => encodePrompt(tokenizer, input));
}

/** The training prompts centred routing and the logit scales read: per task of library.json (its task folder), in its order. */
export async function libraryTrainingPrompts(libraryDir: string, index: LibraryIndex, tokenizer: Tokenizer): Promise<number[][][]> {
  const tasksDir = resolve(libraryDir, index.tasksDir);
  const loaded = new Map((await loadTaskSet(tasksDir)).map((t) => [t.name, t]));
  return index.tasks.map((t) => {
    const task = loaded.get(t.name);
    if (!task) throw new QuiverInputError(`library.json lists task "${t.name}", which is not in the task folder`, tasksDir);
    return trainingPrompts(tokenizer, task.splits.train.map((x) => x.input));
  });
}

/** The centres of a trained library's routed modules: its tasks' training prompts (library.json's task folder). */
export async function libraryInputCentres(libraryDir: string, index: LibraryIndex, model: LlamaModel, tokenizer: Tokenizer, keys: readonly string[]): Promise<Map<string, Float32Array>> {
  return inputCentres(model, await libraryTrainingPrompts(libraryDir, index, tokenizer), keys, tokenizer.padId ?? 0);
}
