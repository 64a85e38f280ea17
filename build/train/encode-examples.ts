/**
 * Task examples as token sequences: prompt = <bos> input separator, answer = output <eos>. The loss
 * is on the answer (the paper trains on targets only); generation starts after the prompt and
 * stops at <eos>. One function, so training, evaluation and routing see the same bytes.
 */
import { QuiverInputError } from '../../shared/errors.js';
import { PROMPT_SEPARATOR, promptIds } from '../../shared/router/prompt-ids.js';
import type { TaskExample } from '../../shared/task-data.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';

/** Between input and output: what the default suite uses (data/tasks/suite.json `separator`). */
export const DEFAULT_SEPARATOR = PROMPT_SEPARATOR;

export interface EncodedExample {
  prompt: number[];
  answer: number[];
}

/** The router computes prompt ids with the same function (shared/router/prompt-ids.ts). */
export function encodePrompt(tokenizer: Tokenizer, input: string, separator = DEFAULT_SEPARATOR): number[] {
  return promptIds(tokenizer, input, separator);
}

export function encodeExample(tokenizer: Tokenizer, ex: TaskExample, separator = DEFAULT_SEPARATOR): EncodedExample {
  const answer = tokenizer.encode(ex.output);
  if (tokenizer.eosId !== null) answer.push(tokenizer.eosId);
  return { prompt: encodePrompt(tokenizer, ex.input, separator), answer };
}

/** Encodes and checks every example fits the model's context; `where` names the task in errors. */
export function encodeExamples(tokenizer: Tokenizer, examples: readonly TaskExample[], maxLen: number, where: string, separator = DEFAULT_SEPARATOR): EncodedExample[] {
  return examples.map((ex, i) => {
    const e = encodeExample(tokenizer, ex, separator);
    if (e.prompt.length + e.answer.length > maxLen)
      throw new QuiverInputError(`example ${i + 1} is ${e.prompt.length + e.answer.length} tokens, more than the model's context of ${maxLen}`, where);
    return e;
  });
}
