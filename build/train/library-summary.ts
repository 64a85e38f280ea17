import type { LibraryIndex } from '../io/library-index.js';

/**
 * The library's per-task table: answer-token test loss of the base model and of the task's private
 * adapter (and its cluster's MBC adapter), steps. Markdown, so README can hold it as is.
 */
export function formatLibrarySummary(index: LibraryIndex): string {
  const rows = index.tasks.map((t) => {
    const m = t.metrics;
    return `| ${t.name} | ${t.family} | ${m.baseTestLoss.toFixed(3)} | ${m.testLoss.toFixed(3)} | ${t.cluster ?? '-'} | ${m.steps} |`;
  });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const base = mean(index.tasks.map((t) => t.metrics.baseTestLoss));
  const priv = mean(index.tasks.map((t) => t.metrics.testLoss));
  const beaten = index.tasks.filter((t) => t.metrics.testLoss < t.metrics.baseTestLoss).length;
  return [
    '| task | family | base test loss | private test loss | cluster | steps |',
    '|---|---|---|---|---|---|',
    ...rows,
    `| **mean** | | **${base.toFixed(3)}** | **${priv.toFixed(3)}** | | |`,
    '',
    `${beaten} of ${index.tasks.length} private adapters beat the base model on their own task's test split.`,
    '',
    '| cluster | tasks | MBC test loss (mean over its tasks) | steps |',
    '|---|---|---|---|',
    ...index.clusters.map((c) => `| ${c.id} | ${c.tasks.join(', ')} | ${c.metrics.testLoss.toFixed(3)} (base ${c.metrics.baseTestLoss.toFixed(3)}) | ${c.metrics.steps} |`),
  ].join('\n');
}
