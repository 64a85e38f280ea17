/**
 * Request-level Arrow's votes (docs/method.md, "Request-level Arrow"): routed modules that read the
 * same hidden state — q, k and v of one layer read its normed attention input, gate and up its normed
 * MLP input — are one site, and a site votes once. Its logit for an adapter, per token, is the
 * largest of its modules' logits (each module's prototype is one direction of that adapter in the
 * site's space; the strongest says how much the adapter responds there). Counted module by module, a
 * layer's residual stream would get three votes for o_proj's one just because LoRA wraps three
 * projections of it: and those three votes follow the prompt's surface bytes, where the attention
 * output (o_proj's input) carries what the prompt asks.
 */
import type { RoutingDefaults } from '../manifest/schema.js';
import { moduleInputSite } from '../router/embedder-outputs.js';

/** How request-level routing counts votes (a manifest's `routing.votes`): one per input site, or one per module. */
export type VoteUnit = RoutingDefaults['votes'];

const groupsOfModules = new WeakMap<readonly { key: string }[], Map<VoteUnit, number[][]>>();

/**
 * voteGroups of a manifest's routed modules, computed once per modules array (a manifest's is fixed)
 * and unit, not once per request.
 */
export function moduleVoteGroups(modules: readonly { key: string }[], unit: VoteUnit): number[][] {
  let byUnit = groupsOfModules.get(modules);
  if (!byUnit) groupsOfModules.set(modules, (byUnit = new Map()));
  let groups = byUnit.get(unit);
  if (!groups) byUnit.set(unit, (groups = voteGroups(modules.map((m) => m.key), unit)));
  return groups;
}

/**
 * The routed modules grouped into sites, in order of each site's first module; a module whose input
 * site is unknown (not a Llama projection) is a site of its own. With `unit` 'module', one group per module.
 */
export function voteGroups(moduleKeys: readonly string[], unit: VoteUnit): number[][] {
  const groups: number[][] = [];
  const bySite = new Map<string, number[]>();
  moduleKeys.forEach((key, i) => {
    const s = unit === 'site' ? moduleInputSite(key) : null;
    if (!s) {
      groups.push([i]);
      return;
    }
    const id = `${s.layer}.${s.site}`;
    const g = bySite.get(id);
    if (g) g.push(i);
    else {
      const fresh = [i];
      bySite.set(id, fresh);
      groups.push(fresh);
    }
  });
  return groups;
}

/**
 * A site's logits: the elementwise largest of its modules' (row-major [tokens, adapters], equal
 * lengths). A NaN loses to any number, as it ranks last in the top k; a single module's array is
 * returned as it is.
 */
export function siteLogits(members: ReadonlyArray<ArrayLike<number>>): ArrayLike<number> {
  if (members.length === 0) throw new RangeError('a site needs at least one module');
  if (members.length === 1) return members[0]!;
  const n = checkSiteMembers(members);
  const out = new Float64Array(n);
  siteMaxInto(members, 0, n, out);
  return out;
}

/** The members' common length; throws when they differ. */
export function checkSiteMembers(members: ReadonlyArray<ArrayLike<number>>): number {
  const n = members[0]!.length;
  for (const z of members) if (z.length !== n) throw new RangeError(`a site's modules have ${z.length} and ${n} logits`);
  return n;
}

/** siteLogits' rule on `length` values from `offset` (one token's row), written to `out[0 .. length)`. */
export function siteMaxInto(members: ReadonlyArray<ArrayLike<number>>, offset: number, length: number, out: Float64Array): void {
  const first = members[0]!;
  for (let i = 0; i < length; i++) out[i] = first[offset + i]!;
  for (let m = 1; m < members.length; m++) {
    const z = members[m]!;
    for (let i = 0; i < length; i++) {
      const v = z[offset + i]!;
      if (v > out[i]! || out[i] !== out[i]) out[i] = v;
    }
  }
}
