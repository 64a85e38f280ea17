import { reportCliError } from './cli-errors.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportCliError(err);
}
