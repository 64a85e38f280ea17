import type { Command } from 'commander';
import { topKIndices } from '../../shared/arrow/top-k.js';
import { routeRequest, type RouteOptions, type RouteResult } from '../../shared/router/route-request.js';
import { parsePositiveInt, parsePositiveNumber, parseUnitInterval, parseVotes } from '../cli-options.js';
import { openCompiledRouter } from '../io/compiled-router.js';

/** The manifest's routing, overridden where an option is given (RouteOptions: the edge's overrides). */
export interface RouteCommandOptions extends Pick<RouteOptions, 'topK' | 'temperature' | 'threshold' | 'votes'> {
  json?: boolean;
}

export interface RouteOutput extends RouteResult {
  prompt: string;
  manifest: string;
  /** Every adapter's kind, by id (for the table). */
  kinds: Record<string, string>;
}

/**
 * `quiver route`: one prompt through the router the edge runs (shared/router/route-request.ts),
 * with the ONNX embedder in onnxruntime-node.
 */
export async function runRoute(dir: string, prompt: string, opts: RouteCommandOptions): Promise<RouteOutput> {
  const router = await openCompiledRouter(dir);
  try {
    const { json: _json, ...overrides } = opts;
    const result = await routeRequest(router, prompt, overrides);
    const kinds = Object.fromEntries(router.manifest.metadata.adapters.map((a) => [a.id, a.kind]));
    return { prompt, manifest: router.manifestPath, kinds, ...result };
  } finally {
    await router.release();
  }
}

export function formatRoute(r: RouteOutput): string {
  const chosen = r.belowThreshold
    ? `none: the best score is under the threshold ${r.routing.threshold}; serve the base model`
    : r.selected.map((s) => `${s.id} ${s.weight.toFixed(3)}`).join(', ');
  const selected = new Set(r.selected.map((s) => s.id));
  const width = Math.max(2, ...r.scores.map((s) => s.id.length));
  const order = topKIndices(r.scores.map((s) => s.score), r.scores.length).map((i) => r.scores[i]!);
  return [
    `prompt    ${JSON.stringify(r.prompt)} (${r.tokens} tokens)`,
    `routing   top-k ${r.routing.topK}, temperature ${r.routing.temperature}, threshold ${r.routing.threshold}, votes per ${r.routing.votes}`,
    `selected  ${chosen}`,
    '',
    `  ${'id'.padEnd(width)}  kind     score`,
    ...order.map((s) => `${selected.has(s.id) ? '*' : ' '} ${s.id.padEnd(width)}  ${(r.kinds[s.id] ?? '').padEnd(7)}  ${s.score.toFixed(6)}`),
  ].join('\n');
}

export function registerRouteCommand(program: Command): void {
  program
    .command('route')
    .description('Route one prompt with a compiled folder, as the edge does: prints the adapters chosen, their weights, and every adapter\'s score.')
    .argument('<compiled>', 'the folder quiver compile wrote')
    .argument('<prompt>', 'the prompt text (a task input; the training separator is appended, as in training)')
    .option('--top-k <k>', 'adapters to keep (default: the manifest\'s)', parsePositiveInt)
    .option('--temperature <t>', 'softmax temperature over kept Arrow logits (default: the manifest\'s)', parsePositiveNumber)
    .option('--threshold <w>', 'below this best score, the base model (default: the manifest\'s)', parseUnitInterval)
    .option('--votes <unit>', 'one vote per input site (site) or per routed module (module) (default: the manifest\'s)', parseVotes)
    .option('--json', 'machine-readable JSON: { prompt, tokens, routing, selected, scores, belowThreshold }')
    .action(async (dir: string, prompt: string, opts: RouteCommandOptions) => {
      const r = await runRoute(dir, prompt, opts);
      if (opts.json) {
        const { prompt: p, tokens, routing, selected, scores, belowThreshold } = r;
        process.stdout.write(JSON.stringify({ prompt: p, tokens, routing, selected, belowThreshold, scores: scores.map((s) => ({ ...s, kind: r.kinds[s.id] })) }, null, 2) + '\n');
      } else {
        process.stdout.write(formatRoute(r) + '\n');
      }
    });
}
