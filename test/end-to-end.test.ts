/**
 * The whole product on loopback: `quiver serve` on the shipped default library as the backend,
 * the worker in front of it — inside workerd (`wrangler dev`, vLLM form, driven by the official
 * `openai` client) and in Node (LoRAX form, merged adapters). A routed completion must come back
 * from the adapter the router chose: the backend served that adapter, and the text equals what
 * `quiver serve` answers for that adapter asked directly.
 */
import type { ChildProcess } from 'node:child_process';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type RunningServe } from '../build/serve/start-serve.js';
import { edgeApp } from './helpers/edge-harness.js';
import { freePort, startWranglerDev } from './helpers/wrangler-dev.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PROMPT = 'Uppercase: louse =>';

let serve: RunningServe;
let dev: { url: string; proc: ChildProcess } | null = null;

beforeAll(async () => {
  serve = await startServe({ library: 'library', port: 0, log: () => undefined });
  dev = await startWranglerDev(await freePort(), ['--var', `QUIVER_BACKEND_URL:${serve.url}`, '--var', 'QUIVER_BACKEND:vllm']);
}, 120_000);

afterAll(async () => {
  dev?.proc.kill('SIGTERM');
  await serve?.close();
});

async function post(url: string, body: unknown): Promise<Json> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Json;
}

describe('edge → quiver serve', () => {
  it('vLLM form in workerd: the openai client gets the chosen adapter\'s own answer, plain and streamed', async () => {
    const route = await post(`${dev!.url}/v1/route`, { input: PROMPT });
    const top = route.adapters[0].id as string;
    const client = new OpenAI({ baseURL: `${dev!.url}/v1`, apiKey: 'local', maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: PROMPT }], max_tokens: 12, temperature: 0 }).withResponse();
    expect(response.headers.get('x-quiver-adapters')).toBe(`${top}=1`);
    expect(data.model).toBe(top); // vLLM's answer names the LoRA that served it

    const direct = await post(`${serve.url}/v1/chat/completions`, { model: top, messages: [{ role: 'user', content: PROMPT }], max_tokens: 12, temperature: 0 });
    expect(data.choices[0]!.message.content).toBe(direct.choices[0].message.content);

    const stream = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: PROMPT }], max_tokens: 12, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(direct.choices[0].message.content);
  }, 60_000);

  it('LoRAX form: k adapters go as one linear merge, and the answer is that merge\'s', async () => {
    const { json } = await edgeApp({ vars: { QUIVER_BACKEND: 'lorax', QUIVER_BACKEND_URL: serve.url } });
    const route = (await (await json('/v1/route', { input: `${PROMPT} `, top_k: 3 })).json()) as Json;
    const merged = route.backend_request.parameters.merged_adapters;
    expect(merged.ids).toHaveLength(3);
    const res = await json('/v1/completions', { model: 'auto', prompt: `${PROMPT} `, max_tokens: 12, temperature: 0, quiver: { top_k: 3 } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-quiver-adapters')).toBe(merged.ids.map((id: string, i: number) => `${id}=${merged.weights[i]}`).join(','));
    const viaEdge = (await res.json()) as Json;
    const direct = await post(`${serve.url}/generate`, { inputs: `${PROMPT} `, parameters: { merged_adapters: merged, max_new_tokens: 12, do_sample: false, details: true } });
    expect(viaEdge.choices[0].text).toBe(direct.generated_text);
  }, 60_000);
});
