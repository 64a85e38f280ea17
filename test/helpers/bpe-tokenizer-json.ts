/**
 * A small tokenizer.json in the form SmolLM's has, written out by hand: "<|endoftext|>" at id 0,
 * the 256 byte-level characters at 1–256, seven merges (257–263), the GPT-2 regex pre-tokenizer.
 */
import { BYTE_TO_CHAR } from '../../shared/tokenizer/byte-level.js';

export function handWrittenBpeTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<|endoftext|>': 0 };
  BYTE_TO_CHAR.forEach((c, b) => {
    vocab[c] = 1 + b;
  });
  const merges = [
    ['h', 'e'],
    ['l', 'l'],
    ['he', 'll'],
    ['hell', 'o'],
    ['Ġ', 'w'],
    ['o', 'r'],
    ['Ġw', 'or'],
  ];
  merges.forEach(([a, b], i) => {
    vocab[a! + b!] = 257 + i;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
