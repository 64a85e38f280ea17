/**
 * vitest globalSetup: compiles the CLI (`npm run build`) before any test runs, so the tests that
 * spawn bin/quiver.js (and the worker processes it forks from dist/) run the sources under test,
 * never a dist/ left over from an older checkout.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** tsc's exit status when it found type errors but still wrote every output file. */
const EMITTED_WITH_ERRORS = 2;

export default function buildCli(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  // Type errors are `npm test`'s typecheck step to report (it runs first); what matters here is
  // that dist/ was written from these sources. Anything else — tsc missing, nothing emitted — fails the run.
  if (r.status === 0) return;
  if (r.status === EMITTED_WITH_ERRORS) {
    process.stderr.write('build-cli: dist/ compiled, with type errors (above)\n');
    return;
  }
  throw new Error(`compiling the CLI failed (tsc exit ${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ''})`);
}
