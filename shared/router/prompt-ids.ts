import type { Tokenizer } from '../tokenizer/tokenizer.js';

/**
 * Between a task's input and its output. `quiver train` uses this one, so routing must too: a
 * prompt is embedded exactly as the adapters saw it.
 */
export const PROMPT_SEPARATOR = ' ';

/** The ids of a prompt as training saw them: <bos> (if the tokenizer has one), then input + separator. */
export function promptIds(tokenizer: Tokenizer, input: string, separator = PROMPT_SEPARATOR): number[] {
  const ids = tokenizer.encode(input + separator);
  return tokenizer.bosId === null ? ids : [tokenizer.bosId, ...ids];
}
