/**
 * The evaluation as text: per split, a task × system table of accuracy (%), the macro average of
 * accuracy and of test loss, and request-level routing accuracy, then the paired bootstrap
 * comparisons — for the terminal — and the same summary as Markdown for the README.
 */
import type { EvalReport } from './eval-report.js';
import { SPLITS } from './eval-report.js';

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '—');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');

/** "most often first: <adapter> (6.3% of prompts, 1.84× its fair share)". */
function mostChosenText(m: EvalReport['routingSummary'][number]['mostChosen']): string {
  return m === null ? 'no prompt routed to an adapter' : `most often first: ${m.adapter} (${pct(m.share)}% of prompts, ${m.timesFair.toFixed(2)}× its fair share)`;
}

/** Points with their sign (U+2212 for minus, as a reader writes it); a value that rounds to zero has none. */
export function signedPoints(x: number): string {
  const p = (100 * x).toFixed(1);
  if (Number(p) === 0) return '0.0';
  return x > 0 ? `+${p}` : `\u2212${p.slice(1)}`;
}

type Comparison = EvalReport['comparisons'][number];

/** Whether the interval leaves out 0: the sign of the difference is more than resampling noise. */
export function excludesZero(c: Pick<Comparison, 'lo' | 'hi'>): boolean {
  return c.lo > 0 || c.hi < 0;
}

/**
 * One comparison in words: `held-out  A − B: +3.1 points [−0.4, +6.8] (95% paired bootstrap, 8
 * tasks): includes zero`. `code` wraps the system ids (Markdown backticks).
 */
export function formatComparison(c: Comparison, code: (id: string) => string = (id) => id): string {
  const verdict = excludesZero(c) ? 'excludes zero' : 'includes zero (no clear difference)';
  return `${c.split}  ${code(c.system)} \u2212 ${code(c.against)}: ${signedPoints(c.difference)} points [${signedPoints(c.lo)}, ${signedPoints(c.hi)}] ` +
    `(95% paired bootstrap, ${c.tasks} task${c.tasks === 1 ? '' : 's'}): ${verdict}`;
}

/** The heading of the comparisons: what the interval is. */
function comparisonsTitle(report: EvalReport): string {
  const b = report.settings.bootstrap;
  return `differences in mean accuracy, with 95% intervals (paired bootstrap: each task's examples resampled, the same draws for both systems; ${b.resamples.toLocaleString('en-US')} resamples, seed ${b.seed})`;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

function splitTitle(report: EvalReport, split: (typeof SPLITS)[number]): string {
  const tasks = report.tasks.filter((t) => t.split === split);
  const n = tasks.reduce((s, t) => s + t.examples, 0);
  return split === 'in-distribution'
    ? `in-distribution: ${tasks.length} training tasks, their test splits (${n} examples)`
    : `held-out: ${tasks.length} tasks no adapter was trained on (${n} examples)`;
}

/** The terminal table: accuracy (%) per task and system, then averages. */
export function formatEvalTable(report: EvalReport): string {
  const out: string[] = [];
  const systems = report.systems.map((s) => s.id);
  const acc = new Map(report.results.map((r) => [`${r.system}\u0000${r.task}`, r.accuracy]));
  for (const split of SPLITS) {
    const tasks = report.tasks.filter((t) => t.split === split);
    if (tasks.length === 0) continue;
    const cols = systems.filter((s) => report.summary.some((x) => x.split === split && x.system === s));
    const widths = [Math.max(26, ...tasks.map((t) => t.name.length)), ...cols.map((s) => Math.max(6, s.length))];
    out.push(`${splitTitle(report, split)}: accuracy %`);
    out.push(pad(['task', ...cols], widths));
    for (const t of tasks) out.push(pad([t.name, ...cols.map((s) => pct(acc.get(`${s}\u0000${t.name}`) ?? Number.NaN))], widths));
    const avg = (key: 'accuracy' | 'loss', f: (x: number) => string) => cols.map((s) => f(report.summary.find((x) => x.split === split && x.system === s)![key]));
    out.push(pad(['mean accuracy %', ...avg('accuracy', pct)], widths));
    out.push(pad(['mean test loss', ...avg('loss', num)], widths));
    const r = report.routingSummary.find((x) => x.split === split);
    if (r) {
      const own = r.ownFirst === null ? '' : `own adapter first ${pct(r.ownFirst)}%, `;
      const layers = r.perLayer.map((l) => `L${l.layer} ${pct(l.ownFirst ?? l.familyFirst)}`).join(' ');
      out.push(`request-level routing (private adapters): ${own}an adapter of the target family first ${pct(r.familyFirst)}%; ${mostChosenText(r.mostChosen)}; by one layer alone (${r.ownFirst === null ? 'family' : 'own'} first %): ${layers}`);
    }
    out.push('');
  }
  if (report.comparisons.length > 0) {
    out.push(`${comparisonsTitle(report)}:`);
    for (const c of report.comparisons) out.push(formatComparison(c));
    out.push('');
  }
  return out.join('\n');
}

/** The summary for the README: mean accuracy and loss per system and split, the held-out tasks one by one, and routing accuracy. */
export function formatEvalMarkdown(report: EvalReport): string {
  const splits = SPLITS.filter((s) => report.tasks.some((t) => t.split === s));
  const cell = (split: string, system: string, key: 'accuracy' | 'loss') => {
    const s = report.summary.find((x) => x.split === split && x.system === system);
    return s ? (key === 'accuracy' ? pct(s.accuracy) : num(s.loss)) : '—';
  };
  const head = ['system', ...splits.flatMap((s) => [`${s} acc %`, `${s} loss`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const sys of report.systems) lines.push(`| \`${sys.id}\` | ${splits.flatMap((s) => [cell(s, sys.id, 'accuracy'), cell(s, sys.id, 'loss')]).join(' | ')} |`);
  const routing = report.routingSummary.map((r) => {
    const own = r.ownFirst === null ? '' : `own adapter first ${pct(r.ownFirst)}%, `;
    return `- request-level routing, ${r.split} (${r.tasks} tasks): ${own}target family first ${pct(r.familyFirst)}%; ${mostChosenText(r.mostChosen)}`;
  });
  // Held-out tasks one by one: the comparison the paper's table makes.
  const held = report.tasks.filter((t) => t.split === 'held-out');
  const heldTable: string[] = [];
  if (held.length > 0) {
    const systems = report.systems.map((s) => s.id).filter((s) => report.summary.some((x) => x.split === 'held-out' && x.system === s));
    const acc = new Map(report.results.map((r) => [`${r.system}\u0000${r.task}`, r.accuracy]));
    heldTable.push('', `| held-out task (acc %) | ${systems.map((s) => `\`${s}\``).join(' | ')} |`, `|---|${systems.map(() => '---:').join('|')}|`);
    for (const t of held) heldTable.push(`| ${t.name} | ${systems.map((s) => pct(acc.get(`${s}\u0000${t.name}`) ?? Number.NaN)).join(' | ')} |`);
    const picks = report.results.filter((r) => r.system === 'family-oracle' && r.choice);
    if (picks.length > 0) {
      const pick = (r: (typeof picks)[number]) => {
        const c = r.choice!;
        return `${r.task} → ${c.adapter} (${pct(c.candidates.find((x) => x.adapter === c.adapter)!.accuracy)}% on ${c.split})`;
      };
      heldTable.push('', `- \`family-oracle\` picks: ${picks.map(pick).join('; ')}`);
    }
  }
  const comparisons = report.comparisons.length === 0
    ? []
    : ['', `${comparisonsTitle(report)}:`, '', ...report.comparisons.map((c) => `- ${formatComparison(c, (id) => `\`${id}\``)}`)];
  return [...lines, ...heldTable, '', ...routing, ...comparisons].join('\n');
}
