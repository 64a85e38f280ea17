import { QuiverInputError } from './errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a file that must be UTF-8. Decoding with replacement (Node's `readFile(path,
 * 'utf8')`) would turn a bad byte into U+FFFD and let it be trained on; here it is refused,
 * naming `source:line` of the first line that is not valid UTF-8. A leading byte-order mark is
 * dropped, as every UTF-8 decoder does.
 */
export function decodeUtf8Text(bytes: Uint8Array, source: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      try {
        strict.decode(bytes.subarray(start, end === -1 ? bytes.length : end));
      } catch {
        throw new QuiverInputError('not valid UTF-8 text (save the file as UTF-8)', `${source}:${line}`);
      }
      // A UTF-8 sequence never holds a newline byte, so the line that fails is found before the end.
      if (end === -1) throw new QuiverInputError('not valid UTF-8 text (save the file as UTF-8)', source);
      start = end + 1;
    }
  }
}
