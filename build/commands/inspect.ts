import type { Command } from 'commander';
import type { Manifest } from '../../shared/manifest/manifest-codec.js';
import { readManifestFile } from '../io/read-manifest.js';

export interface InspectOptions {
  json?: boolean;
  prototypes?: boolean;
}

/** Per module, per adapter id: the prototype vector as plain numbers. */
function prototypeTable(m: Manifest): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const mod of m.metadata.modules) {
    const p = m.prototypes.get(mod.key)!;
    const rows: Record<string, number[]> = {};
    m.metadata.adapters.forEach((a, i) => {
      rows[a.id] = Array.from(p.subarray(i * mod.dIn, (i + 1) * mod.dIn));
    });
    out[mod.key] = rows;
  }
  return out;
}

/** The shortest and longest prototype, over every module and adapter. */
function prototypeLengths(m: Manifest): { min: number; max: number } {
  let min = Infinity;
  let max = 0;
  for (const mod of m.metadata.modules) {
    const p = m.prototypes.get(mod.key)!;
    for (let i = 0; i < m.metadata.adapters.length; i++) {
      let s = 0;
      for (let d = 0; d < mod.dIn; d++) s += p[i * mod.dIn + d]! ** 2;
      min = Math.min(min, Math.sqrt(s));
      max = Math.max(max, Math.sqrt(s));
    }
  }
  return { min, max };
}

/** Unit prototypes (the paper's, F16-rounded) or scaled ones (quiver compile's default: v / σ). */
function lengthsLine(m: Manifest): string {
  const { min, max } = prototypeLengths(m);
  const range = `${min.toFixed(3)}–${max.toFixed(3)}`;
  if (Math.abs(min - 1) < 1e-2 && Math.abs(max - 1) < 1e-2) return `lengths    prototypes are unit vectors (the paper's Arrow)`;
  return `lengths    prototypes ${range} long: scaled, each divided by the spread σ of its logit over the library's training prompts (quiver compile's default)`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function formatInspect(path: string, m: Manifest, opts: InspectOptions): string {
  const md = m.metadata;
  if (opts.json) return JSON.stringify({ path, metadata: md, ...(opts.prototypes ? { prototypes: prototypeTable(m) } : {}) }, null, 2);
  const layers = [...new Set(md.modules.map((x) => x.layer))];
  const names = [...new Set(md.modules.map((x) => x.module))];
  const lines = [
    `manifest   ${path}`,
    `format     ${md.format} v${md.version}`,
    `base model ${md.baseModel}`,
    `embedder   ${md.embedder ? `${md.embedder.path} (${md.embedder.layers} layers, sha256 ${md.embedder.sha256.slice(0, 12)}…)` : 'none (import only: compile pairs it with an ONNX embedder)'}`,
    `routing    top-k ${md.routing.topK}, temperature ${md.routing.temperature}, threshold ${md.routing.threshold}`,
    `checksum   ${md.checksum}`,
    `modules    ${md.modules.length} routed: layers ${layers.join(', ')} × ${names.join(', ')} (d_in ${[...new Set(md.modules.map((x) => x.dIn))].join(', ')})`,
    `centred    ${md.modules.filter((x) => x.centre !== null).length} of ${md.modules.length} modules (routing scores |(x − c) · v| where a module has a centre c, |x · v| elsewhere)`,
    lengthsLine(m),
    `adapters   ${md.adapters.length}`,
    '',
    table([
      ['id', 'kind', 'r', 'alpha', 'cluster', 'tasks'],
      ...md.adapters.map((a) => [a.id, a.kind, String(a.r), String(a.loraAlpha), a.cluster ?? '-', a.tasks.join(',') || '-']),
    ]),
  ];
  if (opts.prototypes) {
    for (const [key, rows] of Object.entries(prototypeTable(m))) {
      lines.push('', `prototypes ${key}`);
      for (const [id, v] of Object.entries(rows)) lines.push(`  ${id}: [${v.map((x) => x.toFixed(4)).join(', ')}]`);
    }
  }
  return lines.join('\n');
}

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('Print what a routing manifest holds: base model, routed modules, adapters, routing defaults, checksum.')
    .argument('<manifest>', 'a manifest.safetensors file, or the folder holding it')
    .option('--json', 'machine-readable JSON instead of text')
    .option('--prototypes', 'also print every prototype vector (module × adapter)')
    .action(async (path: string, opts: InspectOptions) => {
      const { path: file, manifest } = await readManifestFile(path);
      process.stdout.write(formatInspect(file, manifest, opts) + '\n');
    });
}
