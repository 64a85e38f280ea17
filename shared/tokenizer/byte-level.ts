/**
 * GPT-2's byte-level alphabet: each of the 256 byte values as one printable Unicode character,
 * so that byte sequences can be BPE vocabulary strings. Printable Latin-1 bytes ('!'..'~',
 * '¡'..'¬', '®'..'ÿ') map to themselves; the other 68 bytes, in order, to U+0100 onwards.
 * This is the table the `ByteLevel` pre-tokenizer and decoder of Hugging Face tokenizers use.
 */
function isPrintable(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

/** byte value → its character. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(isPrintable(b) ? b : next++));
  return out;
})();

/** character → byte value. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
