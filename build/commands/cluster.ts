import { InvalidArgumentError, type Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { similarityHeatmapSvg } from '../../shared/mbc/heatmap-svg.js';
import { defaultKRange, MBC_DEFAULTS, mbcFromGram, type KScore, type MbcResult } from '../../shared/mbc/mbc.js';
import { CliUsageError } from '../cli-errors.js';
import { parseNonNegativeInt, parsePositiveInt } from '../cli-options.js';
import { expandAdapterDirs } from '../io/adapter-dirs.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { checkSameBase, openPeftAdapter, type PeftAdapterHandle } from '../io/peft-adapter.js';
import { computeAdapterGram } from '../mbc/adapter-gram.js';
import { createProgress, formatDuration } from '../progress.js';

export const CLUSTERS_FILE = 'clusters.json';
export const SIMILARITY_FILE = 'similarity.json';
export const HEATMAP_FILE = 'similarity.svg';

export interface ClusterOptions {
  out: string;
  k?: number;
  auto?: boolean;
  kRange?: [number, number];
  seed: number;
  restarts: number;
  dims: number;
  quiet?: boolean;
}

/** clusters.json: what training MBC adapters reads. Cluster ids are numbered by their first adapter in input order. */
export interface ClustersFile {
  k: number;
  seed: number;
  method: MbcResult['method'];
  silhouette?: number;
  dims: number;
  restarts: number;
  /** Every k tried (one entry without --auto). */
  scores: KScore[];
  clusters: Array<{ id: string; adapters: string[] }>;
  assignments: Record<string, string>;
}

export interface ClusterSummary {
  ids: string[];
  result: MbcResult;
  clusters: ClustersFile;
  files: string[];
  ms: { medians: number; gram: number; cluster: number };
}

/**
 * `quiver cluster`: MBC (docs/method.md, "MBC") over PEFT adapters on disk. Streams the adapters twice
 * (medians, then the Gram matrix one module at a time; build/mbc/adapter-gram.ts), clusters from
 * the Gram matrix (shared/mbc/mbc.ts) and writes clusters.json, similarity.json, similarity.svg.
 */
export async function runCluster(dirArgs: string[], opts: ClusterOptions): Promise<ClusterSummary> {
  if ((opts.k === undefined) === !opts.auto) throw new CliUsageError('give exactly one of --k <k> (a number of clusters) or --auto (pick k by silhouette)');
  if (opts.kRange && !opts.auto) throw new CliUsageError('--k-range only applies with --auto');
  const dirs = await expandAdapterDirs(dirArgs);
  const n = dirs.length;
  if (n < 2) throw new QuiverInputError(`clustering needs at least 2 adapters, got ${n}`, dirArgs.join(' '));
  if (opts.k !== undefined && opts.k > n) throw new QuiverInputError(`--k ${opts.k} exceeds the number of adapters (${n})`, '--k');
  const kRange = opts.kRange ?? defaultKRange(n);
  if (opts.auto) {
    if (n < 3) throw new QuiverInputError(`--auto needs at least 3 adapters (silhouette is defined for 2..N−1 clusters), got ${n}; pass --k instead`, '--auto');
    if (kRange[1] > n - 1) throw new QuiverInputError(`--k-range ${kRange[0]}..${kRange[1]} goes past ${n - 1} (adapters − 1), where silhouette is undefined`, '--k-range');
  }

  const handles: PeftAdapterHandle[] = [];
  try {
    for (const dir of dirs) handles.push(await openPeftAdapter(dir));
    checkSameBase(handles);
    const ids = handles.map((h) => h.id);
    const medians = createProgress(n, { quiet: opts.quiet });
    const gramProgress = createProgress(handles[0]!.modules.length, { quiet: opts.quiet });
    const t0 = Date.now();
    let t1 = t0;
    const { gram } = await computeAdapterGram(handles, (p) => {
      if (p.pass === 1) {
        medians.step(`median |w| ${p.id}`);
        if (p.index === p.total) {
          medians.done();
          t1 = Date.now();
        }
      } else gramProgress.step(`Gram ${p.module}`);
    });
    gramProgress.done();
    const t2 = Date.now();
    const result = mbcFromGram(gram, n, {
      k: opts.auto ? 'auto' : opts.k!,
      kRange,
      dims: opts.dims,
      seed: opts.seed,
      restarts: opts.restarts,
    });
    const t3 = Date.now();
    const clusters = clustersFile(ids, result, opts);

    const outDir = resolve(opts.out);
    await mkdir(outDir, { recursive: true });
    const files = [join(outDir, CLUSTERS_FILE), join(outDir, SIMILARITY_FILE), join(outDir, HEATMAP_FILE)] as const;
    await writeFileAtomic(files[0], JSON.stringify(clusters, null, 2) + '\n');
    await writeFileAtomic(files[1], JSON.stringify({ ids, matrix: matrixRows(result.similarity, n) }) + '\n');
    await writeFileAtomic(files[2], similarityHeatmapSvg({ ids, matrix: result.similarity, labels: result.labels }));
    return { ids, result, clusters, files: [...files], ms: { medians: t1 - t0, gram: t2 - t1, cluster: t3 - t2 } };
  } finally {
    for (const h of handles) await h.close();
  }
}

function clustersFile(ids: readonly string[], result: MbcResult, opts: ClusterOptions): ClustersFile {
  const clusters = Array.from({ length: result.k }, (_, c) => ({ id: `cluster-${c}`, adapters: [] as string[] }));
  const assignments: Record<string, string> = {};
  ids.forEach((id, i) => {
    const cluster = clusters[result.labels[i]!]!;
    cluster.adapters.push(id);
    assignments[id] = cluster.id;
  });
  return {
    k: result.k,
    seed: opts.seed,
    method: result.method,
    ...(result.silhouette === null ? {} : { silhouette: result.silhouette }),
    dims: result.reducedDims,
    restarts: opts.restarts,
    scores: result.scores,
    clusters,
    assignments,
  };
}

function matrixRows(m: Float64Array, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(m.subarray(i * n, (i + 1) * n)));
}

/** `a..b` with integers 2 <= a <= b. */
export function parseKRange(value: string): [number, number] {
  const match = /^(\d+)\.\.(\d+)$/.exec(value.trim());
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || from < 2 || from > to) throw new InvalidArgumentError(`"${value}" is not a range a..b with 2 <= a <= b (e.g. 2..10).`);
  return [from, to];
}

export function registerClusterCommand(program: Command): void {
  program
    .command('cluster')
    .description(
      'MBC: cluster adapters by the similarity of their weights (keep the largest 50% per adapter, truncated SVD, ' +
        'cosine, k-means++). Writes clusters.json, similarity.json and similarity.svg into --out.',
    )
    .argument('<adapter-dir...>', 'PEFT adapter folders, or folders of them; the folder name is the adapter id')
    .requiredOption('-o, --out <dir>', 'output folder (created if missing)')
    .option('--k <k>', 'number of clusters (the paper uses 10)', parsePositiveInt)
    .option('--auto', 'pick k by mean silhouette over --k-range')
    .option('--k-range <a..b>', 'k values tried by --auto (default 2..min(10, adapters − 1))', parseKRange)
    .option('--seed <n>', 'seed of the k-means++ initialisations: same seed, same clusters', parseNonNegativeInt, 0)
    .option('--restarts <n>', 'k-means++ restarts per k; the lowest inertia wins', parsePositiveInt, MBC_DEFAULTS.restarts)
    .option('--dims <n>', 'truncated-SVD dimensions (the reference recipe uses 64)', parsePositiveInt, MBC_DEFAULTS.dims)
    .option('-q, --quiet', 'no progress lines')
    .action(async (dirs: string[], opts: ClusterOptions) => {
      const s = await runCluster(dirs, opts);
      const { result, clusters } = s;
      const lines: string[] = [];
      if (result.method === 'auto-silhouette') {
        lines.push('silhouette by k:');
        for (const sc of result.scores) {
          const mark = sc.k === result.requestedK ? '  <- chosen' : '';
          lines.push(`  k=${String(sc.k).padEnd(3)} ${sc.silhouette === null ? 'n/a' : sc.silhouette.toFixed(4)}${mark}`);
        }
      }
      if (result.k < result.requestedK) {
        process.stderr.write(`warning: asked for ${result.requestedK} clusters, found ${result.k}: some adapters have identical weights\n`);
      }
      const sil = result.silhouette === null ? '' : `, silhouette ${result.silhouette.toFixed(4)}`;
      lines.push(`${s.ids.length} adapters -> ${result.k} clusters (${result.method}${sil}, ${result.reducedDims} SVD dims, seed ${opts.seed})`);
      for (const c of clusters.clusters) lines.push(`  ${c.id} (${c.adapters.length}): ${c.adapters.join(', ')}`);
      lines.push(`time: medians ${formatDuration(s.ms.medians)}, Gram ${formatDuration(s.ms.gram)}, clustering ${formatDuration(s.ms.cluster)}`);
      for (const f of s.files) lines.push(`wrote ${f}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
