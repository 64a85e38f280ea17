/**
 * Request-level routing's per-vote weights written out plainly for the tests that check the
 * router from outside: the modules `model.layers.L.self_attn.{q,k,v}_proj` of one layer (and
 * `mlp.{gate,up}_proj`) read one input and form one vote, whose logit per token and adapter is the
 * largest of theirs; every other module votes alone. Then top-k softmax per token, as routing does.
 */
import { arrowWeightsFromLogits } from '../../shared/arrow/logit-routing.js';

function siteOf(key: string): string {
  const m = /^model\.layers\.(\d+)\.(self_attn\.[qkv]_proj|mlp\.(?:gate|up)_proj)$/.exec(key);
  return m ? `${m[1]}:${m[2]!.startsWith('self_attn') ? 'attention input' : 'mlp input'}` : key;
}

/** One [tokens, adapters] weight matrix per vote, from per-module logits (in module order). */
export function siteWeights(keys: readonly string[], logits: ReadonlyArray<ArrayLike<number>>, tokens: number, adapters: number, routing: { topK: number; temperature: number }): Float32Array[] {
  const sites: string[] = [];
  const best = new Map<string, number[]>();
  keys.forEach((key, j) => {
    const s = siteOf(key);
    const z = Array.from(logits[j]!);
    const cur = best.get(s);
    if (!cur) {
      sites.push(s);
      best.set(s, z);
    } else best.set(s, cur.map((v, i) => Math.max(v, z[i]!)));
  });
  return sites.map((s) => arrowWeightsFromLogits(best.get(s)!, tokens, adapters, routing));
}
