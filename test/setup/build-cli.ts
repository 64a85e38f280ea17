/**
 * vitest globalSetup: compiles the CLI (`npm run build`) before any test runs, so the tests that
 * spawn bin/quiver.js (and the worker processes it forks from dist/) run the sources under test,
 * never a dist/ left over from an older checkout. A build error fails the run.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function buildCli(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
