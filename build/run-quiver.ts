import { reportCliError } from './cli-errors.js';
import { applyUsageConventions } from './cli-usage.js';
import { createProgram } from './program.js';

/**
 * Runs one `quiver` command line and returns its exit code (0, 1 or 2: build/cli-errors.ts).
 * bin/quiver.js runs it on process.argv; tests run it in-process on `user` arguments.
 */
export async function runQuiver(argv: readonly string[], from: 'node' | 'user'): Promise<number> {
  try {
    await applyUsageConventions(createProgram()).parseAsync([...argv], { from });
    return 0;
  } catch (err) {
    return reportCliError(err);
  }
}
