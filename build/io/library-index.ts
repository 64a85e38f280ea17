import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from './read-json-file.js';
import { TrainConfig } from '../train/train-config.js';

/**
 * `library.json`: the index of a trained library — tasks, clusters, adapter folders (relative to
 * the library) and their metrics. Written last, atomically, by `quiver train`; read by compile,
 * eval and serve.
 *
 * A trained adapter's metrics hold no wall-clock figure: it would make two builds of one
 * configuration differ. How fast a job trained is reported as it finishes (AdapterTiming).
 */
export const AdapterMetrics = z.strictObject({
  /** Mean per-token loss on the answer tokens of the test split: base model, then with the adapter. */
  baseTestLoss: z.number(),
  testLoss: z.number(),
  bestValidLoss: z.number(),
  steps: z.number().int().nonnegative(),
  backend: z.string(),
});
export type AdapterMetrics = z.infer<typeof AdapterMetrics>;

/** How long a training job took: printed, never written into the library. */
export interface AdapterTiming {
  /** Answer+prompt tokens processed per second while training. */
  tokensPerSecond: number;
  seconds: number;
}

export const LIBRARY_FILE = 'library.json';

/**
 * A library's recorded TrainConfig. Libraries written before the `init` field existed were all
 * trained from PEFT's Kaiming-uniform A, so a record without it reads as `kaiming`, not as
 * today's default.
 */
const RecordedTrainConfig = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('init' in v) ? { ...v, init: 'kaiming' } : v),
  TrainConfig,
);

export const LibraryIndex = z.strictObject({
  format: z.literal('quiver.library'),
  version: z.literal(1),
  /** The base checkpoint folder, relative to the library (or absolute). */
  base: z.string().min(1),
  baseModel: z.string().min(1),
  tasksDir: z.string().min(1),
  /** Private adapters' training config. */
  config: RecordedTrainConfig,
  /** MBC adapters' training config (the same, possibly with other epochs). */
  mbcConfig: RecordedTrainConfig,
  tasks: z.array(
    z.strictObject({
      name: z.string(),
      family: z.string(),
      adapter: z.string(),
      cluster: z.string().nullable(),
      metrics: AdapterMetrics,
    }),
  ),
  clusters: z.array(z.strictObject({ id: z.string(), tasks: z.array(z.string()), adapter: z.string(), metrics: AdapterMetrics })),
});
export type LibraryIndex = z.infer<typeof LibraryIndex>;

/** `<dir>/library.json`, checked; errors name the file and field. */
export function readLibraryIndex(libraryDir: string): Promise<LibraryIndex> {
  return readJsonFile(join(libraryDir, LIBRARY_FILE), LibraryIndex, {
    missing: `no ${LIBRARY_FILE}: pass a library folder that quiver train finished`,
    where: libraryDir,
  });
}
