/**
 * The edge app in Node (`app.request`), with the committed compiled default library and a real
 * onnxruntime-web session: routing equals `quiver route`'s (onnxruntime-node), every client
 * mistake is a 4xx naming its field, keys, CORS, the R2 manifest's checks and last-good serving,
 * and the three backends — vLLM and LoRAX as real HTTP servers on loopback, Workers AI through a
 * binding object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoute } from '../build/commands/route.js';
import { readCompiledFiles } from '../build/io/compiled-router.js';
import { DEFAULT_ROUTING } from '../shared/manifest/schema.js';
import { decodeManifest, encodeManifest } from '../shared/manifest/manifest-codec.js';
import { edgeApp } from './helpers/edge-harness.js';
import { loraxFixture, vllmFixture, type Fixture } from './helpers/fixture-backends.js';
import { MemoryBucket } from './helpers/memory-bucket.js';

const COMPILED = 'library/compiled';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function body(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

let files: Awaited<ReturnType<typeof readCompiledFiles>>;
let ids: string[];
let baseModel: string;
beforeAll(async () => {
  files = await readCompiledFiles(COMPILED);
  const m = await decodeManifest(files.manifest);
  ids = m.metadata.adapters.map((a) => a.id);
  baseModel = m.metadata.baseModel;
});

/** A manifest for the same embedder with other routing defaults (what a rebuild uploads to R2). */
async function variantManifest(topK: number): Promise<Uint8Array> {
  const m = await decodeManifest(files.manifest);
  const md = m.metadata;
  return encodeManifest({ baseModel: md.baseModel, embedder: md.embedder, modules: md.modules, adapters: md.adapters, routing: { ...md.routing, topK }, prototypes: m.prototypes, centres: m.centres });
}

describe('routing', () => {
  it('equals quiver route (onnxruntime-node) to 1e-6, with the exact vLLM body', async () => {
    const { json } = await edgeApp({ files });
    for (const prompt of ['Reverse the word: apple', 'What is the capital of France?', 'Is this review positive? I loved it']) {
      const res = await json('/v1/route', { input: prompt, top_k: 2 });
      expect(res.status).toBe(200);
      const got = await body(res);
      const want = await runRoute(COMPILED, prompt, { topK: 2 });
      expect(got.adapters.map((a: Json) => a.id)).toEqual(want.selected.map((s) => s.id));
      for (let i = 0; i < want.selected.length; i++) expect(Math.abs(got.adapters[i].weight - want.selected[i]!.weight)).toBeLessThan(1e-6);
      expect(got.scores.map((s: Json) => s.id)).toEqual(ids);
      for (let i = 0; i < ids.length; i++) expect(Math.abs(got.scores[i].score - want.scores[i]!.score)).toBeLessThan(1e-6);
      expect(got).toMatchObject({ base_fallback: false, tokens: want.tokens, prompt_tokens: want.tokens, window: 96, routing: { top_k: 2, temperature: 1, threshold: 0, votes: 'site' } });
      expect(got.backend_request).toEqual({ model: want.selected[0]!.id, prompt });
      expect(res.headers.get('x-quiver-adapters')).toBe(`${want.selected[0]!.id}=1`);
      expect(res.headers.get('x-quiver-manifest')).toBe(got.manifest);
    }
  });

  it('routes a conversation on its last user message', async () => {
    const { json } = await edgeApp({ files });
    const chat = await body(await json('/v1/route', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello' }, { role: 'assistant', content: 'hi' }, { role: 'user', content: [{ type: 'text', text: 'Reverse the word: apple' }] }] }));
    const plain = await body(await json('/v1/route', { input: 'Reverse the word: apple' }));
    expect(chat.scores).toEqual(plain.scores);
    expect(chat.backend_request.messages).toHaveLength(4);
  });

  it('below the threshold chooses the base model', async () => {
    const { json } = await edgeApp({ files });
    const r = await body(await json('/v1/route', { input: 'Reverse the word: apple', threshold: 0.99 }));
    expect(r).toMatchObject({ adapters: [], base_fallback: true, backend_request: { model: baseModel } });
  });

  it('routes a prompt longer than the window on its first 96 tokens', async () => {
    const { json } = await edgeApp({ files });
    const long = `Reverse the word: apple. ${'and more words '.repeat(40)}`;
    const r = await body(await json('/v1/route', { input: long }));
    expect(r.tokens).toBe(96);
    expect(r.prompt_tokens).toBeGreaterThan(500);
    const want = await runRoute(COMPILED, long, {});
    expect(want.tokens).toBe(96); // quiver route applies the same window
    expect(r.adapters.map((a: Json) => a.id)).toEqual(want.selected.map((s) => s.id));
  });

  it('sends LoRAX k > 1 adapters as merged_adapters with rounded weights, one per id', async () => {
    const { json } = await edgeApp({ files, vars: { QUIVER_BACKEND: 'lorax' } });
    const r = await body(await json('/v1/route', { input: 'Reverse the word: apple', top_k: 3 }));
    const m = r.backend_request.parameters.merged_adapters;
    expect(m.merge_strategy).toBe('linear');
    expect(m.ids).toEqual(r.adapters.map((a: Json) => a.id));
    expect(m.weights).toHaveLength(m.ids.length);
    expect(m.weights.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    for (const [i, w] of m.weights.entries()) {
      expect(Math.round(w * 100)).toBeCloseTo(w * 100, 9);
      expect(Math.abs(w - r.adapters[i].weight)).toBeLessThanOrEqual(0.01);
    }
    expect(r.backend_request.parameters.adapter_id).toBeUndefined();
    const one = await body(await json('/v1/route', { input: 'Reverse the word: apple', top_k: 1 }));
    expect(one.backend_request).toEqual({ inputs: 'Reverse the word: apple', parameters: { details: true, adapter_id: one.adapters[0].id, do_sample: false } });
  });
});

describe('client mistakes are 4xx errors naming the field', () => {
  const cases: Array<[string, unknown, number, string | null]> = [
    ['unknown field', { input: 'x', colour: 'red' }, 400, 'colour'],
    ['wrong type', { input: 5 }, 400, 'input'],
    ['empty input', { input: '   ' }, 400, 'input'],
    ['top_k 0', { input: 'x', top_k: 0 }, 400, 'top_k'],
    ['top_k above the adapters', { input: 'x', top_k: 30 }, 400, 'top_k'],
    ['temperature 0', { input: 'x', temperature: 0 }, 400, 'temperature'],
    ['both input and messages', { input: 'x', messages: [{ role: 'user', content: 'y' }] }, 400, 'messages'],
    ['neither', {}, 400, 'input'],
    ['malformed JSON', '{"input": ', 400, null],
  ];
  for (const [name, payload, status, param] of cases) {
    it(name, async () => {
      const { json } = await edgeApp({ files });
      const res = await json('/v1/route', payload);
      expect(res.status).toBe(status);
      const b = await body(res);
      expect(b.error).toMatchObject({ type: 'invalid_request_error', param });
      expect(typeof b.error.message).toBe('string');
    });
  }

  it('chat: unknown model 404, overrides on a named model, a bad message, no user message', async () => {
    const { json } = await edgeApp({ files });
    const nope = await json('/v1/chat/completions', { model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] });
    expect(nope.status).toBe(404);
    expect((await body(nope)).error).toMatchObject({ param: 'model', code: 'model_not_found' });
    const named = await json('/v1/chat/completions', { model: ids[0], messages: [{ role: 'user', content: 'x' }], quiver: { top_k: 2 } });
    expect((await body(named)).error.param).toBe('quiver');
    const role = await json('/v1/chat/completions', { model: 'auto', messages: [{ role: 'robot', content: 'x' }] });
    expect((await body(role)).error.param).toBe('messages.0.role');
    const noUser = await json('/v1/chat/completions', { model: 'auto', messages: [{ role: 'system', content: 'x' }] });
    expect((await body(noUser)).error).toMatchObject({ param: 'messages', code: 'empty_input' });
    const topK = await json('/v1/completions', { model: 'auto', prompt: 'x', quiver: { top_k: 99 } });
    expect((await body(topK)).error.param).toBe('quiver.top_k');
  });

  it('a body over 1 MiB is 413; a body without a JSON content type is 415; an unknown path is 404', async () => {
    const { app, json } = await edgeApp({ files });
    const big = await json('/v1/route', { input: 'x'.repeat(1024 * 1024 + 10) });
    expect(big.status).toBe(413);
    expect((await body(big)).error.code).toBe('request_too_large');
    const plain = await app.request('/v1/route', { method: 'POST', body: '{"input":"x"}' });
    expect(plain.status).toBe(415);
    expect((await body(plain)).error.type).toBe('invalid_request_error');
    expect((await app.request('/v2/route')).status).toBe(404);
  });
});

describe('keys and CORS', () => {
  it('needs a key from QUIVER_API_KEYS; without keys it is closed unless QUIVER_AUTH=none', async () => {
    const { app, json } = await edgeApp({ files, vars: { QUIVER_AUTH: 'keys', QUIVER_API_KEYS: 'k-one, k-two' } });
    expect((await json('/v1/route', { input: 'x' })).status).toBe(401);
    expect((await json('/v1/route', { input: 'x' }, { authorization: 'Bearer k-three' })).status).toBe(401);
    expect((await json('/v1/route', { input: 'x' }, { authorization: 'Bearer k-one' })).status).toBe(200);
    expect((await json('/v1/route', { input: 'x' }, { authorization: 'Bearer k-two' })).status).toBe(200);
    expect((await app.request('/healthz')).status).toBe(200);
    const closed = await edgeApp({ files, vars: { QUIVER_AUTH: 'keys' } });
    const r = await closed.json('/v1/route', { input: 'x' });
    expect(r.status).toBe(401);
    expect((await body(r)).error.message).toMatch(/QUIVER_API_KEYS/);
  });

  it('answers preflights for CORS_ORIGINS and exposes the Quiver headers', async () => {
    const { app, json } = await edgeApp({ files, vars: { CORS_ORIGINS: 'https://app.example', QUIVER_API_KEYS: 'k' } });
    const pre = await app.request('/v1/route', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const res = await json('/v1/route', { input: 'x' }, { origin: 'https://app.example', authorization: 'Bearer k' });
    expect(res.headers.get('access-control-expose-headers')).toMatch(/x-quiver-adapters/);
  });
});

describe('the manifest in R2', () => {
  it('replaces the bundled one only when it passes every check; a refusal never stops routing and is reported until a good one arrives', async () => {
    const bucket = new MemoryBucket();
    let now = 0;
    const { app, json } = await edgeApp({ files, bucket, now: () => now, vars: { MANIFEST_RECHECK_SECONDS: '0' } });
    const health = async () => body(await app.request('/healthz'));
    const bundled = await health();
    expect(bundled).toMatchObject({ source: 'bundled', refusal: null });

    const good = await variantManifest(1);
    bucket.put('manifest.safetensors', good);
    const h1 = await health();
    expect(h1).toMatchObject({ source: 'r2', refusal: null });
    expect(h1.checksum).not.toBe(bundled.checksum);
    expect((await body(await json('/v1/route', { input: 'x' }))).adapters).toHaveLength(1); // its routing defaults

    const corrupt = good.slice();
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
    bucket.put('manifest.safetensors', corrupt);
    for (let i = 0; i < 3; i++) {
      now += 1000;
      const h = await health();
      expect(h).toMatchObject({ ok: true, source: 'r2', checksum: h1.checksum, refusal: { reason: expect.stringMatching(/checksum mismatch/), key: 'manifest.safetensors' } });
      const r = await json('/v1/route', { input: 'x' });
      expect(r.status).toBe(200);
      expect((await body(r)).manifest).toBe(h1.checksum);
    }
    expect(bucket.gets).toBe(2); // a refused object is not downloaded again

    // A manifest compiled for another embedder: refused by the embedder's sha256.
    const m = await decodeManifest(good);
    const other = await encodeManifest({ ...m.metadata, embedder: { ...m.metadata.embedder!, sha256: 'f'.repeat(64) }, prototypes: m.prototypes, centres: m.centres });
    bucket.put('manifest.safetensors', other);
    expect((await health()).refusal.reason).toMatch(/sha256/);

    bucket.put('manifest.safetensors', await variantManifest(2));
    const fixed = await health();
    expect(fixed).toMatchObject({ source: 'r2', refusal: null });
    expect((await body(await json('/v1/route', { input: 'x' }))).adapters).toHaveLength(2);
  });

  it('checks R2 at most every MANIFEST_RECHECK_SECONDS', async () => {
    const bucket = new MemoryBucket();
    let now = 0;
    const { app, json } = await edgeApp({ files, bucket, now: () => now, vars: { MANIFEST_RECHECK_SECONDS: '30' } });
    await json('/v1/route', { input: 'x' });
    bucket.put('manifest.safetensors', await variantManifest(1));
    now = 10_000;
    expect((await body(await json('/v1/route', { input: 'x' }))).adapters).toHaveLength(DEFAULT_ROUTING.topK); // the bundled manifest's
    expect((await body(await app.request('/healthz'))).source).toBe('bundled');
    now = 31_000;
    expect((await body(await json('/v1/route', { input: 'x' }))).adapters).toHaveLength(1);
    expect((await body(await app.request('/healthz'))).source).toBe('r2');
  });
});

describe('backends', () => {
  let vllm: Fixture;
  let lorax: Fixture;
  beforeAll(async () => {
    vllm = await vllmFixture([baseModel, ...ids]);
    lorax = await loraxFixture(ids);
  });
  afterAll(async () => {
    await vllm.close();
    await lorax.close();
  });
  const ask = { model: 'auto', messages: [{ role: 'user', content: 'Reverse the word: apple' }], max_tokens: 8 };

  it('vLLM: model is the top adapter; the answer is vLLM\'s; headers say what served', async () => {
    const { json } = await edgeApp({ files, vars: { QUIVER_BACKEND_URL: vllm.url } });
    const route = await body(await json('/v1/route', { messages: ask.messages }));
    const res = await json('/v1/chat/completions', ask);
    expect(res.status).toBe(200);
    const sent = vllm.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toEqual({ ...ask, model: route.adapters[0].id });
    expect((await body(res)).choices[0].message.content).toBe(`answer from ${route.adapters[0].id}`);
    expect(res.headers.get('x-quiver-adapters')).toBe(`${route.adapters[0].id}=1`);
    expect(res.headers.get('x-quiver-manifest')).toBe(route.manifest);
    // Named models pass through unrouted.
    const named = await json('/v1/completions', { model: ids[5], prompt: 'x' });
    expect(vllm.requests.at(-1)!.body.model).toBe(ids[5]);
    expect(named.headers.get('x-quiver-adapters')).toBe(`${ids[5]}=1`);
    await json('/v1/completions', { model: baseModel, prompt: 'x' });
    expect(vllm.requests.at(-1)!.body.model).toBe(baseModel);
  });

  it('vLLM streaming is piped through as events arrive', async () => {
    const { json } = await edgeApp({ files, vars: { QUIVER_BACKEND_URL: vllm.url } });
    vllm.holdStreams = true;
    try {
      const res = await json('/v1/chat/completions', { ...ask, stream: true });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toMatch(/^data: .*"answer"/); // arrived while the backend holds the rest
      vllm.release();
      let rest = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      expect(rest.trim().endsWith('data: [DONE]')).toBe(true);
    } finally {
      vllm.holdStreams = false;
    }
  });

  it('LoRAX: merged_adapters for k > 1, adapter_id for k = 1, translated back into OpenAI shapes, streams too', async () => {
    const { json } = await edgeApp({ files, vars: { QUIVER_BACKEND: 'lorax', QUIVER_BACKEND_URL: lorax.url } });
    const res = await json('/v1/chat/completions', { ...ask, temperature: 0.7, seed: 3, stop: '\n' });
    expect(res.status).toBe(200);
    const sent = lorax.requests.at(-1)!;
    expect(sent.path).toBe('/generate');
    const p = sent.body.parameters as Json;
    expect(sent.body.inputs).toBe('Reverse the word: apple ');
    expect(p).toMatchObject({ max_new_tokens: 8, do_sample: true, temperature: 0.7, seed: 3, stop: ['\n'], details: true });
    const label = p.merged_adapters.ids.map((id: string, i: number) => `${id}*${p.merged_adapters.weights[i]}`).join('+');
    const b = await body(res);
    expect(b).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `answer from ${label}` }, finish_reason: 'length' }], usage: { completion_tokens: 3 } });
    expect(res.headers.get('x-quiver-adapters')).toBe(p.merged_adapters.ids.map((id: string, i: number) => `${id}=${p.merged_adapters.weights[i]}`).join(','));

    const one = await json('/v1/completions', { model: 'auto', prompt: 'Reverse the word: apple', quiver: { top_k: 1 } });
    // top_k 1 routes per token with k 1 too, so its adapter is /v1/route's at top_k 1 (not always the first of the k > 1 merge).
    const alone = (await body(await json('/v1/route', { input: 'Reverse the word: apple', top_k: 1 }))) as { adapters: Array<{ id: string }> };
    expect((lorax.requests.at(-1)!.body.parameters as Json).adapter_id).toBe(alone.adapters[0]!.id);
    expect(one.headers.get('x-quiver-adapters')).toBe(`${alone.adapters[0]!.id}=1`);
    expect((await body(one)).object).toBe('text_completion');

    const stream = await json('/v1/chat/completions', { ...ask, stream: true, stream_options: { include_usage: true } });
    expect(lorax.requests.at(-1)!.path).toBe('/generate_stream');
    const text = await stream.text();
    const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Json);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(`answer from ${label}`);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('length');
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 3 });
  });

  it('LoRAX refusals become OpenAI errors; fields LoRAX lacks are refused', async () => {
    const { json } = await edgeApp({ files, vars: { QUIVER_BACKEND: 'lorax', QUIVER_BACKEND_URL: lorax.url, QUIVER_ADAPTER_PREFIX: 'missing/' } });
    const res = await json('/v1/completions', { model: ids[0], prompt: 'x' });
    expect(res.status).toBe(400);
    expect((await body(res)).error).toMatchObject({ type: 'invalid_request_error', code: 'validation', message: expect.stringMatching(/not found/) });
    const n = await json('/v1/completions', { model: 'auto', prompt: 'x', n: 2 });
    expect(n.status).toBe(400);
    expect((await body(n)).error.param).toBe('n');
  });

  it('unreachable is 502 and slow is 504, both with the routing decision', async () => {
    const down = await edgeApp({ files, vars: { QUIVER_BACKEND_URL: 'http://127.0.0.1:9' } });
    const r502 = await down.json('/v1/chat/completions', ask);
    expect(r502.status).toBe(502);
    const b502 = await body(r502);
    expect(b502.error.code).toBe('backend_unreachable');
    expect(b502.routing.adapters).toHaveLength(1);
    expect(r502.headers.get('x-quiver-adapters')).toBe(`${b502.routing.adapters[0].id}=1`);

    const slow = await edgeApp({ files, vars: { QUIVER_BACKEND_URL: vllm.url, QUIVER_BACKEND_TIMEOUT_MS: '150' } });
    vllm.delayMs = 1000;
    try {
      const r504 = await slow.json('/v1/chat/completions', ask);
      expect(r504.status).toBe(504);
      expect(await body(r504)).toMatchObject({ error: { code: 'backend_timeout', type: 'backend_error' }, routing: { base_fallback: false } });
    } finally {
      vllm.delayMs = 0;
    }
  });

  it('Workers AI: env.AI.run with one lora, answers translated', async () => {
    const calls: Array<[string, Json]> = [];
    const ai = {
      async run(model: string, inputs: Json) {
        calls.push([model, inputs]);
        if (inputs.stream) {
          const enc = new TextEncoder();
          return new ReadableStream({
            start(c) {
              for (const t of ['an', 'swer']) c.enqueue(enc.encode(`data: {"response":"${t}"}\n\n`));
              c.enqueue(enc.encode('data: [DONE]\n\n'));
              c.close();
            },
          });
        }
        return { response: `answer with ${inputs.lora ?? 'no lora'}` };
      },
    };
    const { json } = await edgeApp({ files, ai, vars: { QUIVER_BACKEND: 'workers-ai' } });
    const res = await json('/v1/chat/completions', ask);
    const [model, inputs] = calls.at(-1)!;
    expect(model).toBe('@cf/mistral/mistral-7b-instruct-v0.2-lora');
    expect(inputs).toEqual({ messages: ask.messages, lora: res.headers.get('x-quiver-adapters')!.split('=')[0], max_tokens: 8 });
    expect((await body(res)).choices[0].message.content).toBe(`answer with ${inputs.lora}`);
    const s = await (await json('/v1/completions', { model: 'auto', prompt: 'x', stream: true })).text();
    expect(calls.at(-1)![1]).toMatchObject({ prompt: 'x', raw: true, stream: true });
    expect(s).toMatch(/"text":"an"[\s\S]*"text":"swer"[\s\S]*data: \[DONE\]/);
    const none = await edgeApp({ files, vars: { QUIVER_BACKEND: 'workers-ai' } });
    const r = await none.json('/v1/chat/completions', ask);
    expect(r.status).toBe(503);
    expect((await body(r)).error.code).toBe('backend_not_configured');
  });
});

describe('documents', () => {
  it('/openapi.json comes from the same schemas; /v1/adapters lists the clusters', async () => {
    const { app } = await edgeApp({ files });
    const doc = await body(await app.request('/openapi.json'));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/v1/adapters', '/v1/models', '/v1/route', '/v1/chat/completions', '/v1/completions']));
    expect(doc.components.schemas.RouteRequest.additionalProperties).toBe(false);
    expect(Object.keys(doc.components.schemas.RouteRequest.properties)).toEqual(expect.arrayContaining(['input', 'messages', 'top_k', 'temperature', 'threshold']));
    const table = await body(await app.request('/v1/adapters'));
    expect(table).toMatchObject({ version: 1, base_model: baseModel, source: 'bundled', routing: { top_k: DEFAULT_ROUTING.topK, temperature: DEFAULT_ROUTING.temperature, threshold: DEFAULT_ROUTING.threshold, votes: DEFAULT_ROUTING.votes } });
    expect(table.adapters.map((a: Json) => a.id)).toEqual(ids);
    const clustered = table.adapters.filter((a: Json) => a.cluster !== null);
    expect(table.clusters.flatMap((c: Json) => c.adapters).sort()).toEqual(clustered.map((a: Json) => a.id).sort());
    const models = await body(await app.request('/v1/models'));
    expect(models.data.map((m: Json) => m.id)).toEqual(['auto', 'quiver', baseModel, ...ids]);
  });
});
