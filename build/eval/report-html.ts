/**
 * `report.html`: the evaluation as one static page — summary and per-task tables, bar charts of
 * accuracy per system, request-level routing accuracy (per task and per layer), and the library's
 * MBC similarity heatmap and clusters. Inline SVG and CSS only: no script, no external asset, so it
 * opens from disk, in CI artifacts and in mail alike. Markup is kept well-formed XML (every element
 * closed, attributes quoted) so tests can check its structure without a browser.
 */
import { barChartSvg, escapeXml } from './bar-chart-svg.js';
import { SPLITS, type EvalReport } from './eval-report.js';
import type { SystemId } from './eval-systems.js';
import { excludesZero, signedPoints as signed } from './eval-table.js';
import { routingConfusionSvg, type ConfusionAdapter } from './routing-confusion-svg.js';

export interface ReportExtras {
  /** library/clusters/similarity.svg, if the library has one. */
  similaritySvg?: string | null;
  /** The library's clusters (library.json): id → tasks. */
  clusters?: ReadonlyArray<{ id: string; tasks: readonly string[] }>;
  /** The private adapters request-level routing chooses among (library.json's tasks), for the confusion heatmap. */
  adapters?: ReadonlyArray<ConfusionAdapter>;
}

export const SYSTEM_COLOURS: Record<SystemId, string> = {
  base: '#8c8c8c',
  'private-mu': '#1f77b4',
  'private-arrow': '#d62728',
  'private-arrow-outputs': '#f2a0a0',
  'private-req-top1': '#2ca02c',
  'private-req-topk': '#98d88a',
  'mbc-mu': '#9467bd',
  'mbc-arrow': '#c9b3dd',
  oracle: '#ff7f0e',
  'family-oracle': '#ffbb78',
};

const SPLIT_COLOURS = { 'in-distribution': '#4e79a7', 'held-out': '#e15759' } as const;

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(1));
const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));
const e = escapeXml;

/** `text` columns (by index) are prose, left-aligned; the others are numbers. */
function table(head: readonly string[], rows: readonly (readonly string[])[], className = '', text: readonly number[] = []): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const td = (c: string, i: number) => (i === 0 ? `<th scope="row">${c}</th>` : text.includes(i) ? `<td class="text">${c}</td>` : `<td>${c}</td>`);
  const body = rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A task × system table; the best value of each row is bold. */
function taskTable(report: EvalReport, split: (typeof SPLITS)[number], key: 'accuracy' | 'loss'): string {
  const tasks = report.tasks.filter((t) => t.split === split);
  const systems = report.systems.map((s) => s.id).filter((s) => report.summary.some((x) => x.split === split && x.system === s));
  const value = new Map(report.results.map((r) => [`${r.system}\u0000${r.task}`, r[key]]));
  const better = (a: number, b: number) => (key === 'accuracy' ? a > b : a < b);
  const rows = tasks.map((t) => {
    const vs = systems.map((s) => value.get(`${s}\u0000${t.name}`) ?? Number.NaN);
    const best = vs.reduce((b, v) => (Number.isFinite(v) && (!Number.isFinite(b) || better(v, b)) ? v : b), Number.NaN);
    const tie = vs.every((v) => v === best); // nothing to point out
    return [
      `${e(t.name)} <span class="fam">${e(t.family)}${t.multipleChoice ? ', MC' : ''}</span>`,
      ...vs.map((v) => {
        const text = key === 'accuracy' ? pct(v) : num(v);
        return v === best && !tie ? `<b>${text}</b>` : text;
      }),
    ];
  });
  const mean = systems.map((s) => {
    const m = report.summary.find((x) => x.split === split && x.system === s)!;
    return `<b>${key === 'accuracy' ? pct(m.accuracy) : num(m.loss)}</b>`;
  });
  rows.push(['mean', ...mean]);
  return table(['task', ...systems.map((s) => `<code>${e(s)}</code>`)], rows, 'grid');
}

/** The paired bootstrap comparisons: difference in mean accuracy (points) and its 95% interval. */
function comparisonsSection(report: EvalReport): string {
  if (report.comparisons.length === 0) return '';
  const b = report.settings.bootstrap;
  const rows = report.comparisons.map((c) => [
    e(c.split),
    `<code>${e(c.system)}</code> \u2212 <code>${e(c.against)}</code>`,
    String(c.tasks),
    signed(c.difference),
    `[${signed(c.lo)}, ${signed(c.hi)}]`,
    excludesZero(c) ? '<b>yes</b>' : 'no',
  ]);
  return [
    '<h3>Paired comparisons</h3>',
    `<p>Mean accuracy of one system minus another’s over the split’s tasks, in points, with a 95% paired bootstrap interval: each task’s examples resampled with replacement, the same draws for both systems (${b.resamples.toLocaleString('en-US')} resamples, seed ${b.seed}).</p>`,
    table(['split', 'comparison', 'tasks', 'difference', '95% interval', 'excludes 0'], rows, 'grid', [1]),
  ].join('\n');
}

/** The family oracle's pick per held-out task: every candidate's accuracy where it chose, the pick bold. */
function familyOracleSection(report: EvalReport): string {
  const picks = report.results.filter((r) => r.system === 'family-oracle' && r.choice);
  if (picks.length === 0) return '';
  const rows = picks.map((r) => {
    const c = r.choice!;
    const cands = c.candidates.map((x) => (x.adapter === c.adapter ? `<b>${e(x.adapter)} ${pct(x.accuracy)}</b>` : `${e(x.adapter)} ${pct(x.accuracy)}`)).join(', ');
    return [e(r.task), c.split, cands, pct(r.accuracy)];
  });
  return [
    '<h3>Family oracle’s picks</h3>',
    '<p>Each held-out task’s best private adapter of its target family, chosen on the task’s valid split (on test where it has none), then scored on test.</p>',
    table(['task', 'chosen on', 'candidates (accuracy % there)', 'test accuracy %'], rows, 'grid', [1, 2]),
  ].join('\n');
}

function routingSection(report: EvalReport): string {
  const parts: string[] = [];
  const byTask = new Map(report.routing.map((r) => [r.task, r]));
  for (const split of SPLITS) {
    const tasks = report.tasks.filter((t) => t.split === split);
    if (tasks.length === 0) continue;
    const inDist = split === 'in-distribution';
    const rows = tasks.map((t) => {
      const r = byTask.get(t.name)!;
      const top = Object.entries(r.top1)
        .slice(0, 3)
        .map(([id, n]) => `${e(id)} (${n})`)
        .join(', ');
      return [e(t.name), ...(inDist ? [pct((r.ownFirst ?? 0) / r.examples)] : []), `${pct(r.familyFirst / r.examples)} <span class="fam">${e(t.targetFamily)}</span>`, top];
    });
    const summary = report.routingSummary.find((x) => x.split === split);
    if (summary) rows.push(['mean', ...(inDist ? [`<b>${pct(summary.ownFirst)}</b>`] : []), `<b>${pct(summary.familyFirst)}</b>`, '']);
    parts.push(`<h3>${inDist ? 'In-distribution' : 'Held-out'}</h3>`);
    parts.push(table(['task', ...(inDist ? ['own adapter first %'] : []), 'target family first %', 'most chosen first'], rows, 'grid', [inDist ? 3 : 2]));
    const most = summary?.mostChosen;
    if (most) parts.push(`<p>Most often first over these prompts: ${e(most.adapter)}, ${pct(most.share)}% of them — ${most.timesFair.toFixed(2)}× its fair share.</p>`);
  }
  const layers = report.routingSummary[0]?.perLayer.map((l) => l.layer) ?? [];
  if (layers.length > 0) {
    const rows = report.routingSummary.flatMap((s) => [
      ...(s.ownFirst !== null ? [[`${s.split}: own adapter first %`, ...s.perLayer.map((l) => pct(l.ownFirst)), `<b>${pct(s.ownFirst)}</b>`]] : []),
      [`${s.split}: target family first %`, ...s.perLayer.map((l) => pct(l.familyFirst)), `<b>${pct(s.familyFirst)}</b>`],
    ]);
    parts.push('<h3>By layer</h3><p>The same routing with one layer’s modules alone (q, k, v, o inputs of that layer), against all layers together.</p>');
    parts.push(table(['', ...layers.map((l) => `layer ${l}`), 'all layers'], rows, 'grid'));
  }
  return parts.join('\n');
}

function samplesSection(report: EvalReport): string {
  const parts: string[] = [];
  for (const t of report.tasks.filter((x) => x.split === 'held-out')) {
    const rows = report.results
      .filter((r) => r.task === t.name)
      .map((r) => [`<code>${e(r.system)}</code>`, r.samples.map((s) => `${s.prediction === s.output ? '✓' : '✗'} <code>${e(s.prediction)}</code>`).join(' · ')]);
    const first = report.results.find((r) => r.task === t.name);
    const inputs = first ? first.samples.map((s) => `<code>${e(s.input)}</code> → <code>${e(s.output)}</code>`).join(' · ') : '';
    parts.push(`<details><summary>${e(t.name)}</summary><p>${inputs}</p>${table(['system', 'predictions'], rows, 'grid', [1])}</details>`);
  }
  return parts.join('\n');
}

export function renderReportHtml(report: EvalReport, extras: ReportExtras = {}): string {
  const splits = SPLITS.filter((s) => report.tasks.some((t) => t.split === s));
  const systems = report.systems.map((s) => s.id);
  const summaryRows = report.systems.map((s) => [
    `<code>${e(s.id)}</code>`,
    ...splits.flatMap((split) => {
      const m = report.summary.find((x) => x.split === split && x.system === s.id);
      return [pct(m?.accuracy), num(m?.loss)];
    }),
    e(s.description),
  ]);
  const summaryChart = barChartSvg({
    title: 'Mean accuracy per system',
    categories: systems,
    series: splits.map((split) => ({
      name: split,
      colour: SPLIT_COLOURS[split],
      values: systems.map((s) => report.summary.find((x) => x.split === split && x.system === s)?.accuracy ?? null),
    })),
  });
  const taskCharts = splits.map((split) => {
    const tasks = report.tasks.filter((t) => t.split === split);
    const acc = new Map(report.results.map((r) => [`${r.system}\u0000${r.task}`, r.accuracy]));
    return barChartSvg({
      title: `Accuracy per ${split} task`,
      categories: tasks.map((t) => t.name),
      series: systems
        .filter((s) => report.summary.some((x) => x.split === split && x.system === s))
        .map((s) => ({ name: s, colour: SYSTEM_COLOURS[s], values: tasks.map((t) => acc.get(`${s}\u0000${t.name}`) ?? null) })),
    });
  });
  const clusters = extras.clusters ?? [];
  const settings = report.settings;
  const body = [
    `<h1>Quiver evaluation: <code>${e(report.library)}</code></h1>`,
    `<p>Base model <code>${e(report.baseModel)}</code>, backend ${e(report.backend)}. Arrow: top-k ${settings.topK}, temperature ${settings.temperature}. ` +
      `Generation: greedy, at most ${settings.maxNewTokens} tokens; exact match of the decoded text, or for multiple-choice tasks the option of highest log-likelihood. ` +
      `Test loss: mean per-token loss of the reference answer. ${settings.limit === null ? 'Every test example.' : `At most ${settings.limit} examples per task.`}</p>`,
    '<h2>Summary</h2>',
    table(['system', ...splits.flatMap((s) => [`${e(s)} accuracy %`, `${e(s)} loss`]), 'what it is'], summaryRows, 'grid', [1 + 2 * splits.length]),
    `<figure>${summaryChart}</figure>`,
    comparisonsSection(report),
    ...splits.flatMap((split, i) => [
      `<h2>${split === 'in-distribution' ? 'In-distribution tasks (test splits)' : 'Held-out tasks'}</h2>`,
      '<h3>Accuracy %</h3>',
      taskTable(report, split, 'accuracy'),
      '<h3>Test loss</h3>',
      taskTable(report, split, 'loss'),
      `<figure>${taskCharts[i]}</figure>`,
      ...(split === 'held-out' ? [familyOracleSection(report)] : []),
    ]),
    '<h2>Request-level routing</h2>',
    '<p>Arrow over the private adapters from the base model’s module inputs over the prompt, averaged over tokens and modules (as the edge computes it). In-distribution: how often the task’s own adapter comes first; held-out: how often an adapter of the related family does.</p>',
    routingSection(report),
    ...(extras.adapters && extras.adapters.length > 0 && report.routing.length > 0
      ? [
          '<h3>Confusion: tasks × chosen adapters</h3>',
          '<p>Each row is a task, each column an adapter (grouped by family); a cell is the share of the task’s prompts whose first adapter it is. Thin frame: the task’s target family; thick frame: its own adapter. Colours span the range of the shares.</p>',
          `<figure>${routingConfusionSvg(report, extras.adapters)}</figure>`,
        ]
      : []),
    '<h2>MBC clusters</h2>',
    clusters.length > 0 ? table(['cluster', 'tasks'], clusters.map((c) => [e(c.id), c.tasks.map(e).join(', ')]), 'grid', [1]) : '<p>No clusters in this library.</p>',
    extras.similaritySvg ? `<figure>${extras.similaritySvg.replace(/^<\?xml[^>]*>\s*/, '')}</figure>` : '',
    '<h2>Predictions on held-out tasks</h2>',
    samplesSection(report),
  ].join('\n');
  const css = [
    'body{font-family:system-ui,sans-serif;margin:24px;max-width:1360px;color:#222}',
    'table.grid{border-collapse:collapse;margin:8px 0 16px;font-size:13px}',
    'table.grid th,table.grid td{border:1px solid #ddd;padding:3px 8px;text-align:right}',
    'table.grid th[scope=row],table.grid thead th,table.grid td.text{text-align:left}',
    'table.grid th[scope=row],table.grid thead th{background:#f6f6f6}',
    '.fam{color:#888;font-weight:normal;font-size:11px}',
    'figure{margin:8px 0 24px}',
    'code{font-size:12px}',
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>Quiver evaluation: ${e(report.library)}</title>
<style>
${css}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
