#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm ci` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/build/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('quiver: dist/ is missing; run `npm ci` (or `npm run build`) in the Quiver checkout first.\n');
  process.exit(1);
}
await import(entry.href);
