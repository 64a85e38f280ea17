import { Command } from 'commander';
import { registerBuildCommand } from './commands/build.js';
import { registerCalibrateCommand } from './commands/calibrate.js';
import { registerClusterCommand } from './commands/cluster.js';
import { registerCompileCommand } from './commands/compile.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerImportCommand } from './commands/import.js';
import { registerInspectCommand } from './commands/inspect.js';
import { registerPretrainCommand } from './commands/pretrain.js';
import { registerRouteCommand } from './commands/route.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTrainCommand } from './commands/train.js';
import { QUIVER_VERSION } from './version.js';

/**
 * The `quiver` command tree. A fresh program each call, so tests can run commands in-process;
 * build/run-quiver.ts adds the usage conventions (build/cli-usage.ts) to the finished tree.
 */
export function createProgram(): Command {
  const program = new Command('quiver')
    .description('Build a library of LoRA adapters and route requests to them with Arrow.')
    .version(QUIVER_VERSION)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerImportCommand(program);
  registerInspectCommand(program);
  registerClusterCommand(program);
  registerPretrainCommand(program);
  registerTrainCommand(program);
  registerCompileCommand(program);
  registerRouteCommand(program);
  registerCalibrateCommand(program);
  registerEvalCommand(program);
  registerServeCommand(program);
  registerBuildCommand(program);
  return program;
}
