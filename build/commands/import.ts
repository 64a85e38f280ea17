import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeManifest } from '../../shared/manifest/manifest-codec.js';
import { DEFAULT_ROUTING, MANIFEST_FILE, type ManifestAdapter, type RoutingDefaults } from '../../shared/manifest/schema.js';
import { computeAdapterPrototypes } from '../arrow/adapter-prototypes.js';
import { addManifestRoutingOptions } from '../cli-options.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { expandAdapterDirs } from '../io/adapter-dirs.js';
import { formatDuration } from '../progress.js';

/**
 * The routing an imported manifest stores by default: compile's, but one vote per routed module.
 * Adapters trained elsewhere start from PEFT's random A, and on such adapters site votes route worse
 * (on the shipped base, Kaiming-started adapters, paper Arrow: own adapter first 32.1% with module
 * votes, 30.1% with site votes; held-out family first 26.8% against 17.5%; README, "Routing study").
 */
export const IMPORT_ROUTING: RoutingDefaults = { ...DEFAULT_ROUTING, votes: 'module' };

/** The output folder and the routing the manifest stores (addManifestRoutingOptions). */
export interface ImportOptions extends RoutingDefaults {
  out: string;
  quiet?: boolean;
}

export interface ImportSummary {
  manifestPath: string;
  adapters: number;
  modules: number;
  dIn: number[];
  bytes: number;
  msPerAdapter: number;
  degenerate: Array<{ adapter: string; module: string }>;
}

/**
 * `quiver import`: PEFT adapters trained anywhere become a routing manifest (prototypes computed by
 * computeAdapterPrototypes, one adapter in memory at a time).
 */
export async function runImport(dirArgs: string[], opts: ImportOptions): Promise<ImportSummary> {
  const dirs = await expandAdapterDirs(dirArgs);
  const { records, modules, prototypes, degenerate, msPerAdapter } = await computeAdapterPrototypes(dirs, { quiet: opts.quiet });
  const outDir = resolve(opts.out);
  await mkdir(outDir, { recursive: true });
  const adapters: ManifestAdapter[] = records.map((r) => ({
    id: r.id,
    kind: 'imported',
    tasks: [],
    r: r.r,
    loraAlpha: r.loraAlpha,
    cluster: null,
    // The folders are the user's, wherever they are: the manifest names none (shared/manifest/schema.ts).
    source: null,
  }));
  const routing: RoutingDefaults = { topK: opts.topK, temperature: opts.temperature, threshold: opts.threshold, votes: opts.votes };
  const bytes = await encodeManifest({ baseModel: records[0]!.baseModel, embedder: null, modules, adapters, routing, prototypes });
  const manifestPath = join(outDir, MANIFEST_FILE);
  await writeFileAtomic(manifestPath, bytes);
  return {
    manifestPath,
    adapters: records.length,
    modules: modules.length,
    dIn: [...new Set(modules.map((m) => m.dIn))].sort((x, y) => x - y),
    bytes: bytes.length,
    msPerAdapter,
    degenerate,
  };
}

export function registerImportCommand(program: Command): void {
  const command = program
    .command('import')
    .description(
      'Compute Arrow prototypes for PEFT LoRA adapters trained elsewhere and write a routing manifest (no training). ' +
        'Each <adapter-dir> is a PEFT folder (adapter_config.json + adapter_model.safetensors), or a folder whose subfolders are.',
    )
    .argument('<adapter-dir...>', 'PEFT adapter folders; the folder name becomes the adapter id')
    .requiredOption('-o, --out <dir>', `output folder; the manifest is written to <dir>/${MANIFEST_FILE}`);
  addManifestRoutingOptions(command, IMPORT_ROUTING)
    .option('-q, --quiet', 'no progress lines')
    .action(async (dirs: string[], opts: ImportOptions) => {
      const s = await runImport(dirs, opts);
      for (const d of s.degenerate) process.stderr.write(`warning: adapter "${d.adapter}" module ${d.module} has B·A = 0 (untrained?); its prototype is arbitrary\n`);
      process.stdout.write(
        [
          `wrote ${s.manifestPath}`,
          `  adapters  ${s.adapters}`,
          `  modules   ${s.modules} routed (d_in ${s.dIn.join(', ')})`,
          `  bytes     ${s.bytes.toLocaleString('en-US')}`,
          `  time      ${formatDuration(s.msPerAdapter)} per adapter`,
        ].join('\n') + '\n',
      );
    });
}
