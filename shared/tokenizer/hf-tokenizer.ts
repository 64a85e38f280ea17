/**
 * Any other Hugging Face `tokenizer.json` (SmolLM's BPE, Llama's, ...), run by the pure-JS
 * @huggingface/tokenizers, behind Quiver's Tokenizer interface.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { QuiverInputError } from '../errors.js';
import type { DecodeOptions, SpecialIds, Tokenizer } from './tokenizer.js';

// Conventional names, tried only when the caller does not say which id plays which role.
const GUESS = {
  bos: ['<|begin_of_text|>', '<s>', '<bos>', '<|endoftext|>'],
  eos: ['<|end_of_text|>', '</s>', '<eos>', '<|endoftext|>', '<|im_end|>'],
  pad: ['<pad>', '<|pad|>', '<|finetune_right_pad_id|>'],
};

export class HfJsonTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  private readonly tokenizer: HfTokenizer;
  private readonly json: Record<string, unknown>;

  constructor(json: Record<string, unknown>, specials: SpecialIds = {}, where = 'tokenizer.json') {
    this.json = json;
    try {
      // The second argument is tokenizer_config.json; Quiver passes none and sets what matters per call.
      this.tokenizer = new HfTokenizer(json, {});
    } catch (err) {
      throw new QuiverInputError(`not a tokenizer.json that @huggingface/tokenizers can load: ${(err as Error).message}`, where);
    }
    const vocab = this.tokenizer.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    const find = (names: string[]): number | null => {
      for (const n of names) {
        const id = this.tokenizer.token_to_id(n);
        if (id !== undefined) return id;
      }
      return null;
    };
    this.bosId = specials.bosId !== undefined ? specials.bosId : find(GUESS.bos);
    this.eosId = specials.eosId !== undefined ? specials.eosId : find(GUESS.eos);
    this.padId = specials.padId !== undefined ? specials.padId : find(GUESS.pad);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  /** Id of a token string, if in the vocabulary. */
  tokenToId(token: string): number | null {
    return this.tokenizer.token_to_id(token) ?? null;
  }

  toTokenizerJson(): Record<string, unknown> {
    return this.json;
  }
}
