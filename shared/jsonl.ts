import { QuiverInputError } from './errors.js';

/**
 * The values of a JSONL text, one per non-blank line, with the `source:line` (1-based) that names
 * each in errors; a line that is not JSON is refused naming it. A trailing `\r` is dropped (files
 * saved on Windows). Pure: the caller reads the file (as strict UTF-8: utf8-text.ts).
 */
export function* jsonlValues(text: string, source: string): Generator<{ value: unknown; where: string }> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new QuiverInputError(`bad JSON (${error instanceof Error ? error.message : String(error)})`, where);
    }
    yield { value, where };
  }
}
