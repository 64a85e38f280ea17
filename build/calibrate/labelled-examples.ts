/**
 * `quiver calibrate --examples <file>`: JSONL, one labelled prompt a line, `{"input": "…",
 * "adapter": "<id>"}` — the adapter that should serve the prompt, or the base model's id when the
 * prompt should fall back to the base model (semantic-router's `None` route). `"adapter": ["a",
 * "b"]` accepts any of several (a held-out task is right at any adapter of its family). Every
 * label must be one of the manifest's adapter ids or its base model; errors name file:line.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { QuiverInputError } from '../../shared/errors.js';
import { jsonlValues } from '../../shared/jsonl.js';
import { decodeUtf8Text } from '../../shared/utf8-text.js';
import { formatZodError } from '../../shared/zod-error.js';

const Id = z.string().min(1, { error: 'an adapter id must not be empty' });

export const LabelledExample = z.strictObject({
  /** The prompt as a user sends it (the task input; the router adds <bos> and the separator). */
  input: z.string().min(1, { error: 'must not be empty' }),
  /** The adapter that should serve it, the base model's id for "none", or a list of which any is right. */
  adapter: z.union([Id, z.array(Id).min(1, { error: 'a list of adapters must not be empty' })]),
});
export type LabelledExample = z.infer<typeof LabelledExample>;

export interface Labelled {
  input: string;
  /** The accepted answers: adapter ids, or the base model's id. */
  labels: string[];
  /** file:line, for messages. */
  where: string;
}

/**
 * Reads and checks a labelled-examples file against the ids the manifest routes among (`ids`) and
 * its base model (`baseModel`). Refuses an empty file.
 */
export async function readLabelledExamples(path: string, ids: readonly string[], baseModel: string): Promise<Labelled[]> {
  const bytes = await readFile(path).catch(() => {
    throw new QuiverInputError('cannot read the examples file', path);
  });
  const known = new Set([...ids, baseModel]);
  const out: Labelled[] = [];
  for (const { value, where } of jsonlValues(decodeUtf8Text(bytes, path), path)) {
    const parsed = LabelledExample.safeParse(value);
    if (!parsed.success) throw new QuiverInputError(`${formatZodError(parsed.error)} (a line is {"input": "…", "adapter": "<adapter id or the base model's>"})`, where);
    const labels = typeof parsed.data.adapter === 'string' ? [parsed.data.adapter] : [...new Set(parsed.data.adapter)];
    const unknown = labels.filter((l) => !known.has(l));
    if (unknown.length > 0) {
      const shown = ids.length > 6 ? `${ids.slice(0, 6).join(', ')}, … (${ids.length})` : ids.join(', ');
      throw new QuiverInputError(`unknown adapter ${unknown.map((u) => `"${u}"`).join(', ')}: the manifest routes among ${shown}, or "${baseModel}" (the base model) for a prompt that should fall back`, where);
    }
    out.push({ input: parsed.data.input, labels, where });
  }
  if (out.length === 0) throw new QuiverInputError('no examples: the file is empty (one {"input", "adapter"} per line)', path);
  return out;
}
