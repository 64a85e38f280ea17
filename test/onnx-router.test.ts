/**
 * The pure router the edge runs (shared/router/): logits → per-token weights, prompt ids, the
 * compiled tokenizer, the output names the ONNX writer and the embedders agree on, and
 * routeRequest over a stand-in embedder.
 */
import { describe, expect, it } from 'vitest';
import { encodePrompt } from '../build/train/encode-examples.js';
import { siteLogits } from '../shared/arrow/input-site-votes.js';
import { aggregateRequestRouting, requestRoutingFromLogits } from '../shared/arrow/request-routing.js';
import { arrowWeightsFromLogits } from '../shared/arrow/logit-routing.js';
import { arrowTokenWeights } from '../shared/arrow/token-routing.js';
import { QuiverInputError } from '../shared/errors.js';
import { prototypeTensorName, type Manifest } from '../shared/manifest/manifest-codec.js';
import { Rng } from '../shared/random.js';
import type { Embedder } from '../shared/router/embedder.js';
import { arrowLogitsName, embedderOutputName, moduleInputSite, prototypesInputName } from '../shared/router/embedder-outputs.js';
import { promptIds } from '../shared/router/prompt-ids.js';
import { routeRequest } from '../shared/router/route-request.js';
import { loadRouterTokenizer, routerWindow, tokenizerConfigFor } from '../shared/router/router-tokenizer.js';
import { ByteTokenizer } from '../shared/tokenizer/byte-tokenizer.js';
import { handWrittenBpeTokenizerJson } from './helpers/bpe-tokenizer-json.js';

/** Per-token top-k softmax written the plain way: sort, keep k, softmax. */
function plainWeights(logits: Float64Array, tokens: number, E: number, topK: number, temperature: number): Float32Array {
  const w = new Float32Array(tokens * E);
  for (let t = 0; t < tokens; t++) {
    const row = logits.subarray(t * E, (t + 1) * E);
    const kept = Array.from(row.keys()).sort((i, j) => row[j]! - row[i]! || i - j).slice(0, topK);
    const z = kept.map((e) => Math.exp((row[e]! - row[kept[0]!]!) / temperature));
    const sum = z.reduce((a, b) => a + b, 0);
    kept.forEach((e, i) => (w[t * E + e] = z[i]! / sum));
  }
  return w;
}

describe('requestRoutingFromLogits (what routeRequest runs)', () => {
  it('is the mean of the plain per-token weights of each vote\'s elementwise-largest logits, and bit for bit aggregateRequestRouting over arrowWeightsFromLogits', () => {
    const rng = new Rng(11);
    const [T, E] = [23, 7];
    // Rounded values make ties within a token and across a site's modules frequent; one NaN per module.
    const module = () => {
      const z = Float32Array.from({ length: T * E }, () => Math.round(rng.next() * 8) / 4);
      z[rng.int(T * E)] = NaN;
      return z;
    };
    const votes = [[module(), module(), module()], [module()], [module(), module()]];
    for (const topK of [1, 3, 7, 12]) {
      for (const temperature of [1, 0.4]) {
        const options = { topK, temperature, threshold: 0 };
        const got = requestRoutingFromLogits(votes, T, E, options);
        // The plain way: the site's logits by Math.max with NaN as −∞, a sort, a softmax, a mean.
        const want = new Float64Array(E);
        for (const members of votes) {
          const z = Float64Array.from({ length: T * E }, (_, i) => Math.max(...members.map((m) => (Number.isNaN(m[i]!) ? -Infinity : m[i]!))));
          const w = plainWeights(z, T, E, topK, temperature);
          for (let i = 0; i < T * E; i++) want[i % E] = want[i % E]! + w[i]! / (votes.length * T);
        }
        for (let e = 0; e < E; e++) expect(got.scores[e]!).toBeCloseTo(want[e]!, 12);
        const composed = aggregateRequestRouting(votes.map((m) => arrowWeightsFromLogits(siteLogits(m), T, E, options)), T, E, options);
        expect(Array.from(got.scores)).toEqual(Array.from(composed.scores));
        expect(got.selected).toEqual(composed.selected);
      }
    }
    expect(requestRoutingFromLogits(votes, T, E, { topK: 2, temperature: 1, threshold: 0.99 }).belowThreshold).toBe(true);
    expect(() => requestRoutingFromLogits([[module(), Float32Array.of(1)]], T, E, { topK: 2, temperature: 1, threshold: 0 })).toThrow(/logits/);
    expect(() => requestRoutingFromLogits([[module()]], T, E + 1, { topK: 2, temperature: 1, threshold: 0 })).toThrow(/expected 23 × 8/);
    expect(() => requestRoutingFromLogits([], T, E, { topK: 2, temperature: 1, threshold: 0 })).toThrow(/at least one/);
  });
});

describe('arrowWeightsFromLogits', () => {
  it('keeps the top k per token (ties to the lower index) and softmaxes them, like a sort would', () => {
    const rng = new Rng(4);
    const T = 40;
    const E = 9;
    // Rounded values make ties frequent.
    const logits = Float64Array.from({ length: T * E }, () => Math.round(rng.next() * 6) / 2);
    for (const topK of [1, 3, 4, 9, 20]) {
      for (const temperature of [1, 0.3]) {
        expect(Array.from(arrowWeightsFromLogits(logits, T, E, { topK, temperature }))).toEqual(Array.from(plainWeights(logits, T, E, topK, temperature)));
      }
    }
    expect(() => arrowWeightsFromLogits(logits, T, E + 1, { topK: 2, temperature: 1 })).toThrow(/expected 40 × 10/);
  });

  it('is what arrowTokenWeights does after |x · v|', () => {
    const rng = new Rng(5);
    const [T, E, d] = [6, 5, 8];
    const x = rng.normals(T * d, 1);
    const p = rng.normals(E * d, 1);
    const logits = new Float64Array(T * E);
    for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) logits[t * E + e] = Math.abs(x.subarray(t * d, (t + 1) * d).reduce((s, v, i) => s + v * p[e * d + i]!, 0));
    expect(Array.from(arrowTokenWeights(x, T, p, E, d, { topK: 2, temperature: 1 }))).toEqual(Array.from(arrowWeightsFromLogits(logits, T, E, { topK: 2, temperature: 1 })));
  });
});

describe('embedder names', () => {
  it('map each Llama projection to the hidden state it reads', () => {
    expect(embedderOutputName('model.layers.2.self_attn.q_proj')).toBe('model.layers.2.input_layernorm.output');
    expect(embedderOutputName('model.layers.2.self_attn.v_proj')).toBe('model.layers.2.input_layernorm.output');
    expect(embedderOutputName('model.layers.0.self_attn.o_proj')).toBe('model.layers.0.self_attn.o_proj.input');
    expect(embedderOutputName('model.layers.11.mlp.up_proj')).toBe('model.layers.11.post_attention_layernorm.output');
    expect(embedderOutputName('model.layers.1.mlp.down_proj')).toBe('model.layers.1.mlp.down_proj.input');
    expect(moduleInputSite('model.layers.01.self_attn.q_proj')).toBeNull();
    expect(embedderOutputName('model.layers.0.self_attn.qkv_proj')).toBeNull();
    expect(embedderOutputName('transformer.h.0.attn.c_attn')).toBeNull();
  });

  it('name the prototypes input after the manifest tensor, so the edge feeds it as is', () => {
    const key = 'model.layers.3.self_attn.k_proj';
    expect(prototypesInputName(key)).toBe(prototypeTensorName(key));
    expect(arrowLogitsName(key)).toBe('arrow_logits.model.layers.3.self_attn.k_proj');
  });
});

describe('prompt ids and the compiled tokenizer', () => {
  it('promptIds is encodePrompt: <bos> input + separator', () => {
    const tok = new ByteTokenizer();
    for (const p of ['Up apple:', '', 'héllo <eos> wörld']) expect(promptIds(tok, p)).toEqual(encodePrompt(tok, p));
    expect(promptIds(tok, 'ab')).toEqual([tok.bosId, 97, 98, 32]);
  });

  it('tokenizer_config.json names the special tokens; an HF tokenizer without a config would guess them', () => {
    const json = handWrittenBpeTokenizerJson();
    const guessed = loadRouterTokenizer(json, null);
    expect(guessed.bosId).toBe(0); // <|endoftext|> is among the conventional names
    const noBos = loadRouterTokenizer(json, { bos_token: null, eos_token: '<|endoftext|>' });
    expect(noBos.bosId).toBeNull();
    expect(noBos.eosId).toBe(0);
    expect(promptIds(noBos, 'hello')).toEqual(noBos.encode('hello '));
    expect(loadRouterTokenizer(json, tokenizerConfigFor(noBos, 64)).bosId).toBeNull();
    expect(loadRouterTokenizer(json, { bos_token: { content: '<|endoftext|>' } }).bosId).toBe(0);
    expect(() => loadRouterTokenizer(json, { bos_token: '<s>' })).toThrow(QuiverInputError);
    const bytes = new ByteTokenizer();
    expect(tokenizerConfigFor(bytes, 96)).toEqual({ bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', model_max_length: 96 });
    expect(loadRouterTokenizer(bytes.toTokenizerJson(), tokenizerConfigFor(bytes, 96)).bosId).toBe(bytes.bosId);
  });

  it('the window is tokenizer_config.json\'s model_max_length; none or HF\'s "no limit" is no window', () => {
    expect(routerWindow({ model_max_length: 96 })).toBe(96);
    expect(routerWindow({ bos_token: '<s>' })).toBeNull();
    expect(routerWindow(null)).toBeNull();
    expect(routerWindow({ model_max_length: 1e30 })).toBeNull();
    expect(() => routerWindow({ model_max_length: 0 })).toThrow(/model_max_length/);
    expect(() => routerWindow({ model_max_length: '96' })).toThrow(/model_max_length/);
  });
});

describe('routeRequest', () => {
  const E = 4;
  const keys = ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.o_proj'];
  const manifest = {
    metadata: {
      modules: keys.map((key) => ({ key, dIn: 8 })),
      adapters: ['a', 'b', 'c', 'd'].map((id) => ({ id })),
      routing: { topK: 2, temperature: 1, threshold: 0, votes: 'site' },
    },
    prototypes: new Map(),
  } as unknown as Manifest;
  const seen: number[][] = [];
  /** Stand-in embedder: logits that depend on the token position only. */
  const embedder: Embedder = {
    async run(ids) {
      seen.push([...ids]);
      return new Map(keys.map((k, j) => [k, Float32Array.from({ length: ids.length * E }, (_, i) => ((i * 7 + j * 3) % 11) / 3)]));
    },
  };
  const tokenizer = new ByteTokenizer();

  it('embeds the prompt ids, averages per-token weights over tokens and modules, keeps the top k', async () => {
    const r = await routeRequest({ manifest, tokenizer, embedder, window: null }, 'hi');
    const ids = seen.at(-1)!;
    expect(ids).toEqual(encodePrompt(tokenizer, 'hi'));
    const logits = await embedder.run(ids);
    const perModule = keys.map((k) => arrowWeightsFromLogits(logits.get(k)!, ids.length, E, { topK: 2, temperature: 1 }));
    const want = aggregateRequestRouting(perModule, ids.length, E, { topK: 2, threshold: 0 });
    expect(r.tokens).toBe(ids.length);
    expect(r.scores.map((s) => s.score)).toEqual(Array.from(want.scores));
    expect(r.selected.map((s) => s.id)).toEqual(want.selected.map((s) => ['a', 'b', 'c', 'd'][s.index]));
    expect(r.belowThreshold).toBe(false);
  });

  it('takes per-request overrides and a token cap; below the threshold it selects nothing', async () => {
    const r = await routeRequest({ manifest, tokenizer, embedder, window: null }, 'a longer prompt', { topK: 3, maxTokens: 5, temperature: undefined });
    expect(seen.at(-1)).toHaveLength(5);
    expect([r.tokens, r.promptTokens]).toEqual([5, encodePrompt(tokenizer, 'a longer prompt').length]);
    expect(r.routing).toEqual({ topK: 3, temperature: 1, threshold: 0, votes: 'site' });
    expect(r.selected).toHaveLength(3);
    const low = await routeRequest({ manifest, tokenizer, embedder, window: null }, 'x', { threshold: 0.99 });
    expect(low.belowThreshold).toBe(true);
    expect(low.selected).toEqual([]);
    expect(low.scores.reduce((a, s) => a + s.score, 0)).toBeCloseTo(1, 6);
  });

  it('routes a prompt longer than the window on its first window ids, and says how long it was', async () => {
    const prompt = 'x'.repeat(40);
    const r = await routeRequest({ manifest, tokenizer, embedder, window: 16 }, prompt);
    expect(seen.at(-1)).toEqual(encodePrompt(tokenizer, prompt).slice(0, 16));
    expect([r.tokens, r.promptTokens]).toEqual([16, 42]);
    const capped = await routeRequest({ manifest, tokenizer, embedder, window: 16 }, prompt, { maxTokens: 4 });
    expect(capped.tokens).toBe(4);
  });
});
