import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_ROUTING, RoutingDefaults } from '../shared/manifest/schema.js';

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

/** `site` or `module`: how request-level routing counts votes (RoutingDefaults.votes). */
export function parseVotes(value: string): RoutingDefaults['votes'] {
  const r = RoutingDefaults.shape.votes.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`"${value}" is not one of ${RoutingDefaults.shape.votes.options.join(', ')}.`);
  return r.data;
}

/**
 * `--top-k`, `--temperature`, `--threshold`, `--votes`: the routing a manifest stores for the edge
 * (quiver import, quiver compile), with the command's defaults.
 */
export function addManifestRoutingOptions(cmd: Command, defaults: RoutingDefaults = DEFAULT_ROUTING): Command {
  return cmd
    .option('--top-k <k>', "manifest's routing: adapters per request", parsePositiveInt, defaults.topK)
    .option('--temperature <t>', "manifest's routing: softmax temperature over kept Arrow logits", parsePositiveNumber, defaults.temperature)
    .option('--threshold <w>', "manifest's routing: below this best routing weight, serve the base model (0 = never)", parseUnitInterval, defaults.threshold)
    .option('--votes <unit>', "manifest's routing: one vote per input site (site: q, k and v of a layer once, their largest logit) or per routed module (module)", parseVotes, defaults.votes);
}
