import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_ROUTING } from '../shared/manifest/schema.js';

/** Commander option parsers that refuse what is not a number of the right kind, naming the value. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer.`);
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative integer.`);
  return n;
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number.`);
  return n;
}

export function parseUnitInterval(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`"${value}" is not a number in [0, 1].`);
  return n;
}

/** `--top-k`, `--temperature`, `--threshold`: the routing a manifest stores for the edge (quiver import, quiver compile). */
export function addManifestRoutingOptions(cmd: Command): Command {
  return cmd
    .option('--top-k <k>', "manifest's routing: adapters per request", parsePositiveInt, DEFAULT_ROUTING.topK)
    .option('--temperature <t>', "manifest's routing: softmax temperature over kept Arrow logits", parsePositiveNumber, DEFAULT_ROUTING.temperature)
    .option('--threshold <w>', "manifest's routing: below this best routing weight, serve the base model (0 = never)", parseUnitInterval, DEFAULT_ROUTING.threshold);
}
