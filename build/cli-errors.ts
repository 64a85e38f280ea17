import { QuiverInputError } from '../shared/errors.js';

/** Exit codes: 2 for input the user can fix, 1 for anything else (a bug or the machine). */
export function reportCliError(err: unknown): number {
  if (err instanceof QuiverInputError) {
    process.stderr.write(`quiver: ${err.message}\n`);
    return 2;
  }
  if (err instanceof Error && err.name === 'CliUsageError') {
    process.stderr.write(`quiver: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(`quiver: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

/** A wrong combination of options: reported like commander's own usage errors. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
