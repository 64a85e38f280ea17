import { CommanderError } from 'commander';
import { QuiverInputError } from '../shared/errors.js';

/** Exit codes: 0 for --help and --version, 2 for input or usage the user can fix, 1 for anything else (a bug or the machine). */
export function reportCliError(err: unknown): number {
  // Commander's successful exits (--help, --version) carry exit code 0.
  if (err instanceof CommanderError && err.exitCode === 0) return 0;
  if (err instanceof QuiverInputError || err instanceof CliUsageError) {
    process.stderr.write(`quiver: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(`quiver: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

/** A wrong command line or combination of options (build/cli-usage.ts): exit 2, like bad input. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
