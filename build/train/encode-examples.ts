/**
 * Task examples as token sequences: prompt = <bos> input separator, answer = output <eos>. The loss
 * is on the answer (the paper trains on targets only); generation starts after the prompt and
 * stops at <eos>. One function, so training, evaluation and routing see the same bytes.
 */
import { PROMPT_SEPARATOR, promptIds } from '../../shared/router/prompt-ids.js';
import type { ExampleCheck, TaskExample } from '../../shared/task-data.js';
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

/**
 * The rule that an example fits a model of context `maxLen` (prompt and answer together), for
 * loadTaskSet: a too-long example is refused naming its file and line before any training.
 */
export function fitsContext(tokenizer: Tokenizer, maxLen: number, separator = DEFAULT_SEPARATOR): ExampleCheck {
  return (ex) => {
    const e = encodeExample(tokenizer, ex, separator);
    const n = e.prompt.length + e.answer.length;
    return n > maxLen ? `the example is ${n} tokens (prompt ${e.prompt.length} + answer ${e.answer.length}), more than the model's context of ${maxLen}` : null;
  };
}
