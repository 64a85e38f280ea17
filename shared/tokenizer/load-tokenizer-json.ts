import { QuiverInputError } from '../errors.js';
import { ByteTokenizer } from './byte-tokenizer.js';
import { HfJsonTokenizer } from './hf-tokenizer.js';
import type { SpecialIds, Tokenizer } from './tokenizer.js';

/**
 * A tokenizer from a parsed `tokenizer.json`: Quiver's byte tokenizer when the file is one it
 * wrote, otherwise @huggingface/tokenizers over the file. `specials` names the bos/eos/pad ids
 * (from config.json) for files that do not say.
 */
export function loadTokenizerJson(json: unknown, specials: SpecialIds = {}, where = 'tokenizer.json'): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('model' in json)) {
    throw new QuiverInputError('expected a Hugging Face tokenizer.json object (with a "model" entry)', where);
  }
  return ByteTokenizer.fromTokenizerJson(json) ?? new HfJsonTokenizer(json as Record<string, unknown>, specials, where);
}
