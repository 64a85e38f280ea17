/**
 * The docs the code cites exist: every `docs/<name>.md, "Section"` reference in a comment, README or
 * ARCHITECTURE names a file of docs/ and one of its `##`–`####` headings; and nothing cites the reference
 * notes the docs were written from (DESIGN.md, ENVIRONMENT.md, INTERFACES.md), which are not part
 * of the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOTS = ['shared', 'build', 'edge', 'test', 'bench', 'docs', '.ci', 'README.md', 'ARCHITECTURE.md', 'package.json', 'vitest.config.ts', 'wrangler.toml'];

function files(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path).sort().flatMap((e) => files(join(path, e)));
}

const texts = ROOTS.flatMap(files).filter((f) => /\.(ts|md|json|toml)$|\/run$/.test(f)).map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));
const headings = (doc: string) => new Set([...readFileSync(doc, 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim()));

describe('references to docs/', () => {
  it('name an existing file and, where they quote one, an existing section', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const { file, text } of texts) {
      // `docs/method.md, "MBC"`, `docs/method.md ("MBC")`: the quoted names up to the closing parenthesis.
      for (const m of text.matchAll(/docs\/([a-z-]+\.md)([^)\n]*(?:\n[ \t]*\*[^)\n]*)?)/g)) {
        const doc = join('docs', m[1]!);
        checked++;
        if (!existsSync(doc)) {
          broken.push(`${file}: ${doc} does not exist`);
          continue;
        }
        const known = headings(doc);
        for (const q of m[2]!.matchAll(/"([^"\n]+)"/g)) if (!known.has(q[1]!)) broken.push(`${file}: ${doc} has no section "${q[1]}"`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('never point at the reference notes outside the repository', () => {
    const notes = /\b(DESIGN|ENVIRONMENT|INTERFACES)\.md\b/;
    expect(texts.filter(({ file, text }) => file !== 'test/docs-references.test.ts' && notes.test(text)).map((t) => t.file)).toEqual([]);
  });
});
