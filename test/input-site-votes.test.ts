import { describe, expect, it } from 'vitest';
import { moduleVoteGroups, siteLogits, voteGroups } from '../shared/arrow/input-site-votes.js';
import type { Manifest } from '../shared/manifest/manifest-codec.js';
import { routeLogits } from '../shared/router/route-request.js';

const L = (layer: number, m: string) => `model.layers.${layer}.${m}`;

describe('voteGroups', () => {
  it('groups the modules that read one hidden state (q, k, v; gate, up) per layer, in order of first appearance', () => {
    const keys = [L(0, 'self_attn.q_proj'), L(0, 'self_attn.k_proj'), L(0, 'self_attn.o_proj'), L(1, 'self_attn.v_proj'), L(0, 'self_attn.v_proj'), L(1, 'mlp.gate_proj'), L(1, 'mlp.up_proj'), L(1, 'mlp.down_proj'), 'transformer.h.0.attn.c_attn'];
    expect(voteGroups(keys, 'site')).toEqual([[0, 1, 4], [2], [3], [5, 6], [7], [8]]);
    expect(voteGroups(keys, 'module')).toEqual(keys.map((_, i) => [i]));
    const modules = keys.map((key) => ({ key }));
    expect(moduleVoteGroups(modules, 'site')).toEqual(voteGroups(keys, 'site'));
    expect(moduleVoteGroups(modules, 'site')).toBe(moduleVoteGroups(modules, 'site')); // once per modules array
    expect(moduleVoteGroups(modules, 'module')).toEqual(voteGroups(keys, 'module'));
  });
});

describe('siteLogits', () => {
  it('is the elementwise largest; a NaN loses to any number; one module passes through', () => {
    const one = Float32Array.of(1, 2);
    expect(siteLogits([one])).toBe(one);
    expect(Array.from(siteLogits([[1, 5, NaN, NaN], [3, 2, 0.5, NaN], [2, 7, NaN, NaN]]))).toEqual([3, 7, 0.5, NaN]);
    expect(() => siteLogits([[1], [1, 2]])).toThrow(/logits/);
  });
});

describe('routeLogits counts one vote per input site', () => {
  // One token, two adapters: q, k and v of layer 0 favour adapter a by 1, o_proj favours b by 3.
  const keys = [L(0, 'self_attn.q_proj'), L(0, 'self_attn.k_proj'), L(0, 'self_attn.v_proj'), L(0, 'self_attn.o_proj')];
  const manifest = {
    metadata: { modules: keys.map((key) => ({ key, dIn: 4 })), adapters: [{ id: 'a' }, { id: 'b' }], routing: { topK: 2, temperature: 1, threshold: 0, votes: 'site' } },
    prototypes: new Map(),
  } as unknown as Manifest;
  const logits = new Map(keys.map((k, j) => [k, j < 3 ? Float32Array.of(1, 0) : Float32Array.of(0, 3)]));
  const sig = (x: number) => 1 / (1 + Math.exp(-x));

  it('site votes: (softmax(1, 0) + softmax(0, 3)) / 2 — b first', () => {
    const r = routeLogits(manifest, logits, 1, manifest.metadata.routing);
    expect(r.scores[0]!.score).toBeCloseTo((sig(1) + sig(-3)) / 2, 7); // the per-token weights are float32
    expect(r.scores[1]!.score).toBeCloseTo((sig(-1) + sig(3)) / 2, 7); // the per-token weights are float32
    expect(r.selected[0]!.id).toBe('b');
  });

  it('module votes (the rule before): (3·softmax(1, 0) + softmax(0, 3)) / 4 — a first', () => {
    const r = routeLogits(manifest, logits, 1, { ...manifest.metadata.routing, votes: 'module' });
    expect(r.scores[0]!.score).toBeCloseTo((3 * sig(1) + sig(-3)) / 4, 7); // the per-token weights are float32
    expect(r.selected[0]!.id).toBe('a');
  });

  it('the site takes the largest logit of its modules, per token and adapter', () => {
    const mixed = new Map(logits);
    mixed.set(keys[1]!, Float32Array.of(0, 2)); // k now favours b by 2: the site's logits are (1, 2)
    const r = routeLogits(manifest, mixed, 1, manifest.metadata.routing);
    expect(r.scores[0]!.score).toBeCloseTo((sig(-1) + sig(-3)) / 2, 7); // the per-token weights are float32
  });
});
