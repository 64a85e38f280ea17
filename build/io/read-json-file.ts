import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { QuiverInputError } from '../../shared/errors.js';
import { decodeUtf8Text } from '../../shared/utf8-text.js';
import { formatZodError } from '../../shared/zod-error.js';

export interface ReadJsonFileOptions {
  /** The message when the file cannot be read; null: a missing file is not an error, the result is null. */
  missing: string | null;
  /** What the missing-file message names (default: the path). */
  where?: string;
}

/**
 * Reads a JSON file and checks it against a schema at the boundary — the one way Quiver reads a
 * JSON file. Every failure is a QuiverInputError naming the file (or `where`) and what is wrong:
 * missing, not UTF-8, not JSON, or the field paths the schema refused.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, opts: ReadJsonFileOptions & { missing: string }): Promise<z.infer<S>>;
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, opts: ReadJsonFileOptions): Promise<z.infer<S> | null>;
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, opts: ReadJsonFileOptions): Promise<z.infer<S> | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    if (opts.missing === null) return null;
    throw new QuiverInputError(opts.missing, opts.where ?? path);
  }
  const text = decodeUtf8Text(bytes, path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new QuiverInputError(`not valid JSON (${(err as Error).message})`, path);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new QuiverInputError(formatZodError(parsed.error), path);
  return parsed.data;
}
