import { runQuiver } from './run-quiver.js';

process.exitCode = await runQuiver(process.argv, 'node');
