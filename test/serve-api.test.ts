/**
 * `quiver serve` over HTTP on a micro library (trained here in seconds), spoken to as its clients
 * would: the official `openai` client for vLLM's routes, plain fetch + SSE for LoRAX's. Answers are
 * checked against quiver eval's own decoding of the same adapters (EvalLibrary + greedyGenerate:
 * one adapter, a LoRAX linear merge = mergeLoras, per-token Arrow = the private-arrow system), the
 * bodies against the shapes in vLLM's protocol.py and LoRAX's lib.rs, and the errors against each
 * server's error body and status.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptIds } from '../shared/router/prompt-ids.js';
import { EvalLibrary } from '../build/eval/eval-library.js';
import type { EvalTask } from '../build/eval/eval-tasks.js';
import { greedyGenerate } from '../build/eval/greedy-generate.js';
import { fixedAdapter, type RowAdapter } from '../build/eval/row-adapter.js';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import type { AdapterDelta } from '../build/model/llama.js';
import { Lora, mergeLoras } from '../build/model/lora.js';
import { LoraxErrorBody, VllmErrorBody } from '../build/serve/error-bodies.js';
import { GenerateResponse, StreamResponse } from '../build/serve/lorax-schemas.js';
import { ChatCompletionChunk, ChatCompletionResponse, CompletionResponse } from '../build/serve/openai-schemas.js';
import { ModelList } from '../build/serve/served-models.js';
import { startServe, type RunningServe } from '../build/serve/start-serve.js';
import { buildMicroLibrary, MICRO_TASKS } from './helpers/micro-library.js';
import { parseSse, postSse } from './helpers/sse-events.js';

let root = '';
let server: RunningServe;
let client: OpenAI;
let ref: EvalLibrary;
let base = '';

const INPUTS = Object.fromEntries(Object.entries(MICRO_TASKS).map(([name, t]) => [name, t.rows[17]!.input]));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'quiver-serve-'));
  const lib = await buildMicroLibrary(root);
  server = await startServe({ library: lib, port: 0, backend: 'wasm', log: () => {} });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  ref = await EvalLibrary.load(lib, { topK: 4, temperature: 1, votes: 'site' });
  base = ref.index.baseModel;
}, 120_000);

afterAll(async () => {
  await server?.close();
  ref?.dispose();
  await rm(root, { recursive: true, force: true });
});

/** What quiver eval's decoding answers for `input` with `adapter` (greedy, up to <eos> or 16 tokens). */
function reference(input: string, adapter: RowAdapter, maxNewTokens = 16): string {
  const ids = promptIds(ref.tokenizer, input);
  const [out] = greedyGenerate(ref.model, [ids], { eosId: ref.tokenizer.eosId, padId: ref.tokenizer.padId!, maxNewTokens, adapter });
  return ref.tokenizer.decode(out!);
}

/** log p(token) at each generated position under `delta`, from one forward pass over prompt + tokens (not batched, no RowMix). */
function referenceLogprobs(input: string, delta: AdapterDelta | null, tokens: readonly number[]): number[] {
  const prompt = promptIds(ref.tokenizer, input);
  const ids = [...prompt, ...tokens];
  const V = ref.model.config.vocabSize;
  const flat = tf.tidy(() => ref.model.forward({ ids: Int32Array.from(ids), batchSize: 1, seqLen: ids.length }, { adapter: delta }).logits.dataSync());
  return tokens.map((t, i) => {
    const row = Array.from(flat.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V));
    const m = Math.max(...row);
    return row[t]! - m - Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
  });
}

const own = (task: string) => fixedAdapter(ref.privates.loras[ref.privates.ids.indexOf(task)]!);
const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const training = (input: string) => `<bos>${input} `;

describe('GET /v1/models', () => {
  it("lists the base, every private and MBC adapter and the Arrow routers as vLLM's ModelCards", async () => {
    const list = ModelList.parse(await (await fetch(`${server.url}/v1/models`)).json());
    expect(list.data.map((m) => m.id)).toEqual([base, ...ref.privates.ids, ...ref.mbc.ids, 'quiver-arrow-private', 'quiver-arrow-mbc']);
    expect(list.data[0]).toMatchObject({ object: 'model', parent: null, max_model_len: 48 });
    for (const m of list.data.slice(1)) expect(m.parent).toBe(base);
    expect(list.data[1]!.root).toMatch(/private[/\\]first-letter$/);
    const viaClient = [];
    for await (const m of client.models.list()) viaClient.push(m.id);
    expect(viaClient).toEqual(list.data.map((m) => m.id));
  });
});

describe("vLLM's completions and chat completions", () => {
  it('answer as quiver eval decodes each adapter and the base, chat through the chat template, completions from the raw prompt', async () => {
    for (const [task, input] of Object.entries(INPUTS)) {
      const want = reference(input, own(task));
      const chat = await client.chat.completions.create({ model: task, messages: [{ role: 'user', content: input }], temperature: 0, max_tokens: 16 });
      ChatCompletionResponse.parse(chat);
      expect(chat.choices[0]!.message.content).toBe(want);
      expect(chat.usage?.prompt_tokens).toBe(promptIds(ref.tokenizer, input).length);
      const completion = await client.completions.create({ model: task, prompt: training(input), temperature: 0, max_tokens: 16 });
      CompletionResponse.parse(completion);
      expect(completion.choices[0]!.text).toBe(want);
    }
    const baseChat = await client.chat.completions.create({ model: base, messages: [{ role: 'user', content: INPUTS['first-letter']! }], temperature: 0 });
    expect(baseChat.choices[0]!.message.content).toBe(reference(INPUTS['first-letter']!, fixedAdapter(null), 48));
    // A raw prompt gets no <bos>, as vLLM with this tokenizer.json: a different prompt.
    const raw = await client.completions.create({ model: base, prompt: `${INPUTS['first-letter']!} `, temperature: 0, max_tokens: 1 });
    expect(raw.usage?.prompt_tokens).toBe(promptIds(ref.tokenizer, INPUTS['first-letter']!).length - 1);
  });

  it('streams SSE chunks that add up to the same answer and end with data: [DONE]', async () => {
    const input = INPUTS['first-letter-call']!;
    const stream = await client.chat.completions.create({ model: 'first-letter-call', messages: [{ role: 'user', content: input }], temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: unknown = null;
    for await (const chunk of stream) {
      ChatCompletionChunk.parse(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(reference(input, own('first-letter-call'), 48));
    expect(finish).toMatch(/^(stop|length)$/);
    expect(usage).toMatchObject({ prompt_tokens: promptIds(ref.tokenizer, input).length });
    const raw = await postSse(`${server.url}/v1/completions`, { model: 'first-letter-call', prompt: training(input), temperature: 0, stream: true });
    expect(raw.contentType).toMatch(/^text\/event-stream/);
    expect(raw.data.at(-1)).toBe('[DONE]');
    const chunks = raw.data.slice(0, -1).map((d) => CompletionResponse.parse(JSON.parse(d)));
    expect(chunks.map((c) => c.choices[0]!.text).join('')).toBe(text);
  });

  it('stops at a stop string, leaving it out (vLLM), and samples reproducibly with a seed', async () => {
    const input = INPUTS['pick-longer']!;
    const full = reference(input, own('pick-longer'), 16);
    expect(full.length).toBeGreaterThan(1);
    const stop = full.slice(1, 2);
    const cut = await client.completions.create({ model: 'pick-longer', prompt: training(input), temperature: 0, max_tokens: 16, stop: [stop] });
    expect(cut.choices[0]).toMatchObject({ text: full.slice(0, full.indexOf(stop)), finish_reason: 'stop', stop_reason: stop });
    const sample = () => client.completions.create({ model: 'pick-longer', prompt: training(input), temperature: 1.3, seed: 11, max_tokens: 12, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    const [a, b] = await Promise.all([sample(), sample()]);
    expect(a.choices[0]!.text).toBe(b.choices[0]!.text);
    expect(a.usage?.completion_tokens).toBe(12);
    expect(a.choices[0]!.finish_reason).toBe('length');
  });

  it('serves the paper\'s form: per-token Arrow over the private adapters, as the private-arrow system', async () => {
    const input = INPUTS['first-letter']!;
    const task: EvalTask = { name: 'x', family: 'x', heldOut: false, ownAdapter: null, examples: [] } as unknown as EvalTask;
    const want = reference(input, ref.adapterFor('private-arrow', task, null));
    const got = await client.chat.completions.create({ model: 'quiver-arrow-private', messages: [{ role: 'user', content: input }], temperature: 0, max_tokens: 16 });
    expect(got.choices[0]!.message.content).toBe(want);
  });
});

describe("LoRAX's /generate and /generate_stream", () => {
  it('answer with adapter_id as the vLLM routes do, with details and token logprobs', async () => {
    const input = INPUTS['first-letter']!;
    const res = GenerateResponse.parse(await (await post('/generate', { inputs: training(input), parameters: { adapter_id: 'first-letter', max_new_tokens: 16, details: true } })).json());
    expect(res.generated_text).toBe(reference(input, own('first-letter')));
    const d = res.details!;
    expect(d.prompt_tokens).toBe(promptIds(ref.tokenizer, input).length);
    expect(d.tokens).toHaveLength(d.generated_tokens);
    expect(d.seed).toBeNull(); // greedy: LoRAX reports no seed
    if (d.finish_reason === 'eos_token') expect(d.tokens.at(-1)).toMatchObject({ special: true, text: '<eos>' });
    const wantLogprobs = referenceLogprobs(input, ref.privates.loras[ref.privates.ids.indexOf('first-letter')]!, d.tokens.map((t) => t.id));
    d.tokens.forEach((t, i) => expect(t.logprob).toBeCloseTo(wantLogprobs[i]!, 4));
    expect(d.tokens.filter((t) => !t.special).map((t) => t.text).join('')).toBe(res.generated_text);
  });

  it('merges adapters as LoRAX linear (Σw·A, Σw·B) — mergeLoras — and streams it, the last event carrying the text', async () => {
    const input = INPUTS['first-letter-call']!;
    const ids = ['first-letter', 'first-letter-call', 'pick-longer'];
    const weights = [0.5, 0.3, 0.2];
    const merged = mergeLoras(ids.map((id) => ref.privates.loras[ref.privates.ids.indexOf(id)]!), weights);
    try {
      const want = reference(input, fixedAdapter(merged));
      const parameters = { merged_adapters: { ids, weights, merge_strategy: 'linear' }, max_new_tokens: 16, details: true };
      const plain = GenerateResponse.parse(await (await post('/generate', { inputs: training(input), parameters })).json());
      expect(plain.generated_text).toBe(want);
      const stream = await postSse(`${server.url}/generate_stream`, { inputs: training(input), parameters });
      const events = stream.data.map((d) => StreamResponse.parse(JSON.parse(d)));
      expect(events.slice(0, -1).every((e) => e.generated_text === null && e.details === null)).toBe(true);
      expect(events.at(-1)).toMatchObject({ generated_text: want, details: { generated_tokens: events.length, prompt_tokens: promptIds(ref.tokenizer, input).length } });
      expect(events.map((e) => e.token.id)).toEqual(plain.details!.tokens.map((t) => t.id));
      // The weights as given, not renormalised or uniform: every logprob is the merged model's.
      const tokens = plain.details!.tokens;
      const wantLogprobs = referenceLogprobs(input, merged, tokens.map((t) => t.id));
      tokens.forEach((t, i) => expect(t.logprob).toBeCloseTo(wantLogprobs[i]!, 4));
    } finally {
      merged.dispose();
    }
  });

  it('keeps a stop sequence in the text (TGI StopSequenceCriteria) and reports stop_sequence', async () => {
    const input = INPUTS['pick-longer']!;
    const full = reference(input, own('pick-longer'));
    const stop = full.slice(0, 2);
    const res = GenerateResponse.parse(await (await post('/generate', { inputs: training(input), parameters: { adapter_id: 'pick-longer', stop: [stop], details: true } })).json());
    expect(res.generated_text).toBe(stop);
    expect(res.details!.finish_reason).toBe('stop_sequence');
  });
});

describe('errors, in each API\'s own body', () => {
  async function vllmError(path: string, body: unknown) {
    const res = await post(path, body);
    return { status: res.status, body: VllmErrorBody.parse(await res.json()) };
  }
  async function loraxError(body: unknown) {
    const res = await post('/generate', body);
    return { status: res.status, body: LoraxErrorBody.parse(await res.json()) };
  }

  it('vLLM: an unknown model is a 404 NotFoundError naming `model`, as the openai client reads it', async () => {
    const err = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, param: 'model', type: 'NotFoundError', code: 404 });
    expect((err as Error).message).toMatch(/The model `nope` does not exist/);
  });

  it('vLLM: a malformed body is a 400 naming the field', async () => {
    expect(await vllmError('/v1/completions', { model: base, prompt: 'x', max_tokens: 'many' })).toMatchObject({ status: 400, body: { error: { type: 'BadRequestError', param: 'max_tokens', code: 400 } } });
    expect(await vllmError('/v1/chat/completions', { messages: [{ role: 'user', content: 3 }] })).toMatchObject({ status: 400, body: { error: { param: 'messages.0.content' } } });
    expect(await vllmError('/v1/completions', { prompt: 'x', n: 2 })).toMatchObject({ status: 400, body: { error: { param: 'n' } } });
    expect(await vllmError('/v1/completions', { prompt: 'x'.repeat(60) })).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/maximum context length is 48/) } } });
    expect(await vllmError('/v1/completions', { prompt: 'x', max_tokens: 48 })).toMatchObject({ status: 400, body: { error: { param: 'max_tokens' } } });
    expect(await vllmError('/v1/chat/completions', { messages: [{ role: 'assistant', content: 'x' }] })).toMatchObject({ status: 400, body: { error: { param: 'messages', message: expect.stringMatching(/end with a user message/) } } });
    const notJson = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: '{"prompt":' });
    expect(notJson.status).toBe(400);
    VllmErrorBody.parse(await notJson.json());
    for (const junk of [null, [], 'text', 7, { prompt: ['a', 'b'] }, { prompt: [999999] }, { prompt: '' }]) {
      const r = await post('/v1/completions', junk);
      expect(r.status, JSON.stringify(junk)).toBe(400);
    }
    const unknownRoute = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(unknownRoute.status).toBe(404);
  });

  it("LoRAX: its own validation is a 422 with LoRAX's messages; unequal ranks 424; an unknown adapter 404", async () => {
    const v = (message: RegExp) => ({ status: 422, body: { error_type: 'validation', error: expect.stringMatching(message) } });
    expect(await loraxError({ inputs: 'x', parameters: { adapter_id: 'first-letter', merged_adapters: { ids: ['first-letter'], weights: [1] } } })).toMatchObject(v(/at most one of `adapter_id` or `adapters`/));
    expect(await loraxError({ inputs: 'x', parameters: { merged_adapters: { ids: [], weights: [] } } })).toMatchObject(v(/at least one adapter ID/));
    expect(await loraxError({ inputs: 'x', parameters: { merged_adapters: { ids: ['first-letter', 'pick-longer'], weights: [1] } } })).toMatchObject(v(/number of adapter IDs must match number of adapter weights/));
    expect(await loraxError({ inputs: 'x', parameters: { merged_adapters: { ids: ['first-letter'] } } })).toMatchObject(v(/must match/));
    expect(await loraxError({ inputs: 'x', parameters: { temperature: -1 } })).toMatchObject(v(/temperature/));
    expect(await loraxError({ inputs: 'x', parameters: { max_new_tokens: 0 } })).toMatchObject(v(/max_new_tokens/));
    expect(await loraxError({ inputs: '', parameters: {} })).toMatchObject(v(/`inputs` cannot be empty/));
    expect(await loraxError({ inputs: 'x', parameters: { stop: ['a', 'b', 'c', 'd', 'e'] } })).toMatchObject(v(/up to 4 stop sequences/));
    expect(await loraxError({ inputs: 'x', parameters: { merged_adapters: { ids: ['first-letter'], weights: [1], merge_strategy: 'ties' } } })).toMatchObject(v(/ties/));
    expect(await loraxError({ inputs: 'x', parameters: { adapter_id: 'nope' } })).toMatchObject({ status: 404, body: { error_type: 'not_found' } });
    expect(await loraxError({ inputs: 'x', parameters: { max_new_tokens: 'ten' } })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/parameters\.max_new_tokens/) } });

    const dir = join(root, 'rank-2');
    const lora = Lora.init(ref.model.config, { r: 2 }, 5);
    await writePeftAdapter(dir, lora.toPeftAdapter(base));
    lora.dispose();
    expect((await post('/v1/load_lora_adapter', { lora_name: 'rank-2', lora_path: dir })).status).toBe(200);
    expect(await loraxError({ inputs: 'x', parameters: { merged_adapters: { ids: ['first-letter', 'rank-2'], weights: [0.5, 0.5] } } })).toMatchObject({
      status: 424,
      body: { error_type: 'generation', error: expect.stringMatching(/different ranks/) },
    });
    expect((await post('/v1/unload_lora_adapter', { lora_name: 'rank-2' })).status).toBe(200);
  });
});

describe("vLLM's runtime LoRA loading", () => {
  it('loads a PEFT folder under a new name, serves it, refuses a second load, and unloads it', async () => {
    const dir = join(root, 'extra');
    const lora = Lora.init(ref.model.config, { r: 4 }, 9);
    await writePeftAdapter(dir, lora.toPeftAdapter(base));
    lora.dispose();
    const load = await post('/v1/load_lora_adapter', { lora_name: 'extra', lora_path: dir });
    expect(load.status).toBe(200);
    expect(await load.text()).toBe("Success: LoRA adapter 'extra' added successfully.");
    const listed = ModelList.parse(await (await fetch(`${server.url}/v1/models`)).json()).data.find((m) => m.id === 'extra');
    expect(listed).toMatchObject({ root: dir, parent: base });
    // PEFT's init has B = 0: the adapter changes nothing, so it answers as the base model.
    const input = INPUTS['first-letter']!;
    const got = await client.completions.create({ model: 'extra', prompt: training(input), temperature: 0, max_tokens: 5 });
    expect(got.choices[0]!.text).toBe(reference(input, fixedAdapter(null), 5));
    const again = await post('/v1/load_lora_adapter', { lora_name: 'extra', lora_path: dir });
    expect(again.status).toBe(400);
    expect(VllmErrorBody.parse(await again.json()).error.message).toMatch(/already been loaded/);
    expect((await post('/v1/load_lora_adapter', { lora_name: 'ghost', lora_path: join(root, 'missing') })).status).toBe(404);
    expect((await post('/v1/unload_lora_adapter', { lora_name: 'extra' })).status).toBe(200);
    expect((await post('/v1/completions', { model: 'extra', prompt: 'x' })).status).toBe(404);
    expect((await post('/v1/unload_lora_adapter', { lora_name: 'extra' })).status).toBe(404);
  });
});

describe('many requests at once', () => {
  it('answers every one of a mixed burst exactly as it answers each alone', async () => {
    const tasks = Object.keys(INPUTS);
    const burst = Array.from({ length: 18 }, (_, i) => {
      const task = tasks[i % tasks.length]!;
      const input = INPUTS[task]!;
      const want = reference(input, own(task));
      switch (i % 3) {
        case 0:
          return client.chat.completions.create({ model: task, messages: [{ role: 'user', content: input }], temperature: 0, max_tokens: 16 }).then((r) => [r.choices[0]!.message.content, want]);
        case 1:
          return post('/generate', { inputs: training(input), parameters: { adapter_id: task, max_new_tokens: 16 } }).then(async (r) => [GenerateResponse.parse(await r.json()).generated_text, want]);
        default:
          return postSse(`${server.url}/v1/completions`, { model: task, prompt: training(input), temperature: 0, max_tokens: 16, stream: true }).then((r) => [
            r.data.slice(0, -1).map((d) => CompletionResponse.parse(JSON.parse(d)).choices[0]!.text).join(''),
            want,
          ]);
      }
    });
    for (const [got, want] of await Promise.all(burst)) expect(got).toBe(want);
    expect(server.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it('a client that stops reading its stream stalls nobody, and gets its whole stream when it reads again', async () => {
    // The base model: its greedy text is plain ASCII, so every token is a chunk of its own (an
    // adapter of the micro library may emit bytes that never complete a UTF-8 character, which the
    // stream holds back to the end, and then the whole stream is one chunk).
    const body = JSON.stringify({ model: base, prompt: training(INPUTS['first-letter']!), temperature: 0, max_tokens: 30, ignore_eos: true, stream: true });
    const url = new URL(`${server.url}/v1/completions`);
    let received = '';
    const slow = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    slow.setEncoding('utf8');
    await new Promise<void>((resolve) => slow.once('data', (chunk: string) => ((received += chunk), resolve())));
    slow.pause();
    const others = await Promise.all(
      Object.entries(INPUTS).flatMap(([task, input]) => [
        client.chat.completions.create({ model: task, messages: [{ role: 'user', content: input }], temperature: 0, max_tokens: 16 }).then((r) => r.choices[0]!.message.content),
        post('/generate', { inputs: training(input), parameters: { adapter_id: task } }).then(async (r) => GenerateResponse.parse(await r.json()).generated_text),
      ]),
    );
    expect(others).toEqual(Object.entries(INPUTS).flatMap(([task, input]) => [reference(input, own(task), 48), reference(input, own(task), 48)]));
    expect(received).not.toContain('[DONE]');
    slow.on('data', (chunk: string) => (received += chunk));
    slow.resume();
    await new Promise((resolve) => slow.once('end', resolve));
    const data = parseSse(received);
    expect(data.at(-1)).toBe('[DONE]');
    const text = data.slice(0, -1).map((d) => CompletionResponse.parse(JSON.parse(d)).choices[0]!.text).join('');
    const whole = await client.completions.create({ model: base, prompt: training(INPUTS['first-letter']!), temperature: 0, max_tokens: 30, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(data.length).toBeGreaterThan(2); // the stream came in several chunks: the pause held some back
    expect(text).toBe(whole.choices[0]!.text);
  });

  it('a client that hangs up mid-stream cancels its generation; the server goes on', async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/generate_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: training(INPUTS['pick-longer']!), parameters: { adapter_id: 'pick-longer', max_new_tokens: 40, ignore_eos_token: true } }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    const before = server.stats().tokens;
    const deadline = Date.now() + 5000;
    while (server.stats().running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.stats().running).toBe(0);
    expect(server.stats().tokens - before).toBeLessThan(40);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
