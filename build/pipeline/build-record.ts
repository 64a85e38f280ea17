/**
 * `<out>/build.json`: what `quiver build` made — the config it ran (defaults filled in, paths as
 * written), and per stage the hash of what the stage read and the sha256 of every file it wrote,
 * keyed by path relative to the library folder. It is the library's checksum index (a shipped
 * library is checked against it) and what makes compile and eval resumable: a stage whose inputs
 * hash and files still match is not run again. No times, no absolute paths: two builds of one
 * configuration write the same record. Written atomically after each stage.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalJson } from '../../shared/canonical-json.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { sha256Text } from '../io/file-hash.js';
import { readJsonFile } from '../io/read-json-file.js';
import { BuildConfig } from './build-config.js';

export const BUILD_RECORD_FILE = 'build.json';

export const STAGES = ['pretrain', 'train', 'compile', 'eval'] as const;
export type StageName = (typeof STAGES)[number];

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const StageRecord = z.strictObject({
  /** sha256 of the canonical JSON of the stage's settings and the checksums of the files it read. */
  inputs: Sha256,
  /** Every file the stage wrote: path relative to the library folder → sha256. */
  files: z.record(z.string(), Sha256),
});
export type StageRecord = z.infer<typeof StageRecord>;

export const BuildRecord = z.strictObject({
  format: z.literal('quiver.build'),
  version: z.literal(1),
  config: BuildConfig,
  stages: z.strictObject({ pretrain: StageRecord.optional(), train: StageRecord.optional(), compile: StageRecord.optional(), eval: StageRecord.optional() }),
});
export type BuildRecord = z.infer<typeof BuildRecord>;

export function readBuildRecord(outDir: string): Promise<BuildRecord | null> {
  return readJsonFile(join(outDir, BUILD_RECORD_FILE), BuildRecord, { missing: null });
}

export async function writeBuildRecord(outDir: string, record: BuildRecord): Promise<string> {
  const path = join(outDir, BUILD_RECORD_FILE);
  const stages = Object.fromEntries(STAGES.filter((s) => record.stages[s]).map((s) => [s, record.stages[s]]));
  await writeFileAtomic(path, JSON.stringify(BuildRecord.parse({ ...record, stages }), null, 2) + '\n');
  return path;
}

/** Keys sorted, so the same inputs always hash the same. */
export function inputsHash(parts: unknown): string {
  return sha256Text(canonicalJson(parts));
}
