/**
 * The tokenizer of Quiver's own small base models: one id per byte (0–255), then <pad>, <bos>,
 * <eos> (256–258). Any text encodes, nothing is unknown, and the vocabulary is tiny.
 * It saves as a valid Hugging Face `tokenizer.json` that encodes identically everywhere: a BPE
 * model with no merges whose vocabulary is the 256 byte-level characters (byte-level.ts), the
 * ByteLevel pre-tokenizer and decoder without regex splitting or prefix space, and the three
 * specials as added tokens.
 */
import { BYTE_TO_CHAR, CHAR_TO_BYTE } from './byte-level.js';
import type { DecodeOptions, Tokenizer } from './tokenizer.js';

export const BYTE_SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>'] as const;

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export class ByteTokenizer implements Tokenizer {
  readonly vocabSize = 259;
  readonly padId = 256;
  readonly bosId = 257;
  readonly eosId = 258;
  private readonly encoder = new TextEncoder();

  encode(text: string): number[] {
    const ids: number[] = [];
    let start = 0;
    // Special-token text becomes the special token, as in Hugging Face (added tokens split first).
    for (;;) {
      let at = -1;
      let which = -1;
      BYTE_SPECIAL_TOKENS.forEach((s, i) => {
        const found = text.indexOf(s, start);
        if (found !== -1 && (at === -1 || found < at)) {
          at = found;
          which = i;
        }
      });
      const end = at === -1 ? text.length : at;
      for (const b of this.encoder.encode(text.slice(start, end))) ids.push(b);
      if (at === -1) return ids;
      ids.push(256 + which);
      start = at + BYTE_SPECIAL_TOKENS[which]!.length;
    }
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    let out = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) out += decoder.decode(Uint8Array.from(run));
      run = [];
    };
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} is outside the byte vocabulary [0, ${this.vocabSize})`);
      if (id < 256) {
        run.push(id);
      } else if (!options.skipSpecialTokens) {
        flush();
        out += BYTE_SPECIAL_TOKENS[id - 256];
      }
    }
    flush();
    return out;
  }

  toTokenizerJson(): Record<string, unknown> {
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: BYTE_SPECIAL_TOKENS.map((content, i) => ({
        id: 256 + i,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: { ...BYTE_LEVEL },
      post_processor: null,
      decoder: { ...BYTE_LEVEL },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(BYTE_TO_CHAR.map((c, b) => [c, b])),
        merges: [],
      },
    };
  }

  /** The byte tokenizer if `json` is exactly the tokenizer.json it writes (in substance), else null. */
  static fromTokenizerJson(json: unknown): ByteTokenizer | null {
    if (!isRecord(json) || !isRecord(json.model) || json.normalizer != null || json.post_processor != null) return null;
    const { model, pre_tokenizer: pre, added_tokens: added } = json;
    if (model.type !== 'BPE' || !Array.isArray(model.merges) || model.merges.length !== 0 || model.byte_fallback === true) return null;
    if (model.continuing_subword_prefix != null || model.end_of_word_suffix != null) return null;
    if (!isRecord(pre) || pre.type !== 'ByteLevel' || pre.use_regex !== false || pre.add_prefix_space === true) return null;
    if (!isRecord(json.decoder) || json.decoder.type !== 'ByteLevel') return null;
    const vocab = model.vocab;
    if (!isRecord(vocab) || Object.keys(vocab).length !== 256) return null;
    for (const [c, id] of Object.entries(vocab)) if (CHAR_TO_BYTE.get(c) !== id) return null;
    if (!Array.isArray(added) || added.length !== BYTE_SPECIAL_TOKENS.length) return null;
    const ok = added.every((t, i) => isRecord(t) && t.id === 256 + i && t.content === BYTE_SPECIAL_TOKENS[i] && t.special === true && t.lstrip !== true && t.rstrip !== true);
    return ok ? new ByteTokenizer() : null;
  }
}
