import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { BYTE_TO_CHAR } from '../shared/tokenizer/byte-level.js';
import { ByteTokenizer } from '../shared/tokenizer/byte-tokenizer.js';
import { HfJsonTokenizer } from '../shared/tokenizer/hf-tokenizer.js';
import { loadTokenizerJson } from '../shared/tokenizer/load-tokenizer-json.js';
import { handWrittenBpeTokenizerJson } from './helpers/bpe-tokenizer-json.js';

const TEXTS = [
  '',
  'hello',
  'Hello, World!\n',
  '  two  spaces ',
  'naïve café 日本語 🙂 ∑',
  '<bos>question<eos>answer<pad>',
  '<eos<eos>>',
  '\u0000\u0001\u007f\u00ad tab\tand\r\n',
  'Ġ is a byte-level character, not a space',
];

describe('ByteTokenizer', () => {
  const tok = new ByteTokenizer();

  it('is UTF-8 bytes, with <pad> <bos> <eos> at 256–258', () => {
    expect(tok.encode('hé')).toEqual([104, 0xc3, 0xa9]);
    expect(tok.encode('a<eos>')).toEqual([97, 258]);
    expect([tok.padId, tok.bosId, tok.eosId, tok.vocabSize]).toEqual([256, 257, 258, 259]);
    for (const text of TEXTS) expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.decode([257, 104, 105, 258], { skipSpecialTokens: true })).toBe('hi');
    expect(() => tok.decode([259])).toThrow(/outside the byte vocabulary/);
  });

  it('writes a tokenizer.json that @huggingface/tokenizers loads and that encodes and decodes identically', () => {
    const json = JSON.parse(JSON.stringify(tok.toTokenizerJson())) as Record<string, unknown>;
    const hf = new HfTokenizer(json, {});
    for (const text of TEXTS) {
      const ids = tok.encode(text);
      expect(hf.encode(text, { add_special_tokens: false }).ids, JSON.stringify(text)).toEqual(ids);
      if (ids.length > 0) {
        for (const skip of [false, true]) {
          expect(hf.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false })).toBe(tok.decode(ids, { skipSpecialTokens: skip }));
        }
      }
    }
    // Broken UTF-8 decodes to U+FFFD in both.
    const broken = [0xe6, 0x97, 104, 0xa9];
    expect(hf.decode(broken, { clean_up_tokenization_spaces: false })).toBe(tok.decode(broken));
  });

  it('is recognised when read back; other tokenizer.json files go to @huggingface/tokenizers', () => {
    const json = JSON.parse(JSON.stringify(tok.toTokenizerJson())) as unknown;
    expect(loadTokenizerJson(json)).toBeInstanceOf(ByteTokenizer);
    const altered = JSON.parse(JSON.stringify(json)) as { model: { vocab: Record<string, number> } };
    altered.model.vocab[BYTE_TO_CHAR[65]!] = 66; // no longer one id per byte
    expect(loadTokenizerJson(altered)).not.toBeInstanceOf(ByteTokenizer);
    expect(() => loadTokenizerJson({ nope: 1 })).toThrow(/tokenizer\.json/);
  });

  it('the byte-level alphabet is GPT-2’s', () => {
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[65]).toBe('A');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
  });
});

describe('a hand-written BPE tokenizer.json (the SmolLM form)', () => {
  it('merges by rank and splits added tokens', () => {
    const tok = loadTokenizerJson(handWrittenBpeTokenizerJson(), { bosId: 0, eosId: 0 });
    expect(tok).toBeInstanceOf(HfJsonTokenizer);
    // "hello" → h e l l o → he l l o → he ll o → hell o → hello; " world" → Ġw or l d → Ġwor l d
    expect(tok.encode('hello world')).toEqual([260, 263, 1 + 108, 1 + 100]);
    expect(tok.encode('hello<|endoftext|>')).toEqual([260, 0]);
    expect(tok.decode([260, 263, 109, 101, 0])).toBe('hello world<|endoftext|>');
    expect(tok.decode([260, 0], { skipSpecialTokens: true })).toBe('hello');
    expect([tok.vocabSize, tok.bosId, tok.eosId, tok.padId]).toEqual([264, 0, 0, null]);
  });
});

describe('shared/tokenizer runs at the edge', () => {
  it('imports no Node-only module', async () => {
    const dir = join(import.meta.dirname, '../shared/tokenizer');
    for (const f of await readdir(dir)) {
      const text = await readFile(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/from ['"](node:|fs|path|crypto|os)/);
    }
  });
});
