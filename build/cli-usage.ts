/**
 * How the CLI treats usage: a wrong command line (unknown command or option, a missing required
 * option, a value an option parser refuses) is one line on stderr — `quiver: <what> (see quiver
 * <command> --help)` — and exit code 2, like every other input error (build/cli-errors.ts).
 * Commander would print its own two lines and exit 1 before our handler runs; here each command's
 * exit is overridden instead. `--help` marks the options a command cannot run without.
 */
import { Help, type Command, type CommanderError, type Option } from 'commander';
import { CliUsageError } from './cli-errors.js';

/** `quiver`, `quiver train`: the command line that names `cmd`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function* commandTree(cmd: Command): Generator<Command> {
  yield cmd;
  for (const sub of cmd.commands) yield* commandTree(sub);
}

/**
 * Commander's message without its `error: ` prefix and final period; a value an option parser
 * refused reads `--epochs: "0" is not a positive number`, as input errors name their field.
 */
function usageMessage(err: CommanderError): string {
  const text = err.message.replace(/^error: /, '');
  const refused = /^option '(?:-\w, )?(--?[\w-]+)[^']*' argument '.*' is invalid\. (.*)$/s.exec(text);
  return (refused ? `${refused[1]}: ${refused[2]}` : text).replace(/\.$/, '');
}

/**
 * Applies the conventions above to `program` and every command registered on it by now; call it
 * once the command tree is complete.
 */
export function applyUsageConventions(program: Command): Command {
  for (const cmd of commandTree(program)) {
    // Nothing printed by commander itself: the error reaches reportCliError as one CliUsageError.
    cmd.configureOutput({ outputError: () => undefined });
    cmd.showHelpAfterError(false);
    cmd.exitOverride((err) => {
      // --help, --version: done, exit 0. Help printed because no command was given: a usage error.
      if (err.exitCode === 0) throw err;
      if (err.code === 'commander.help') throw new CliUsageError(`a command is needed (see ${commandPath(cmd)} --help)`);
      throw new CliUsageError(`${usageMessage(err)} (see ${commandPath(cmd)} --help)`);
    });
    cmd.configureHelp({
      optionDescription(option: Option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    });
  }
  return program;
}
