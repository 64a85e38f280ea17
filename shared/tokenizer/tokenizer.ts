/**
 * What Quiver needs from a tokenizer, at build time and at the edge alike. `encode` adds no
 * special tokens (callers add <bos>/<eos> where a format wants them), and both directions treat
 * the text of a special token inside the input as that token, as Hugging Face tokenizers do.
 */
export interface Tokenizer {
  /** One more than the largest id (model vocab_size may be larger, never smaller). */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  encode(text: string): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** The Hugging Face `tokenizer.json` object that reproduces this tokenizer. */
  toTokenizerJson(): Record<string, unknown>;
}

export interface DecodeOptions {
  /** Drop special tokens (pad, bos, eos, ...) from the text. Default false, as in Hugging Face. */
  skipSpecialTokens?: boolean;
}

/** Special token ids, where the tokenizer file alone does not say which token plays which role. */
export interface SpecialIds {
  bosId?: number | null;
  eosId?: number | null;
  padId?: number | null;
}
