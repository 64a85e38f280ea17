/**
 * End to end in workerd: `wrangler dev` runs the real worker bundle (the compiled default library
 * inside it, onnxruntime-web on its wasm module) with a local R2 bucket holding a corrupt
 * manifest, in front of a vLLM-shaped server on loopback. Routing equals `quiver route --json`'s
 * on one prompt of every task and every held-out task; the official `openai` client gets plain and
 * streamed answers. Slow (wrangler start-up), so one worker for the file.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoute } from '../build/commands/route.js';
import { readCompiledFiles } from '../build/io/compiled-router.js';
import { decodeManifest } from '../shared/manifest/manifest-codec.js';
import { vllmFixture, type Fixture } from './helpers/fixture-backends.js';
import { runCli } from './helpers/run-cli.js';
import { freePort, startWranglerDev } from './helpers/wrangler-dev.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const COMPILED = 'library/compiled';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let dev: { url: string; proc: ChildProcess; log: () => string } | null = null;
let vllm: Fixture;
let ids: string[];

beforeAll(async () => {
  const files = await readCompiledFiles(COMPILED);
  const m = await decodeManifest(files.manifest);
  ids = m.metadata.adapters.map((a) => a.id);
  vllm = await vllmFixture([m.metadata.baseModel, ...ids]);
  const state = await tempDir();
  const bad = join(state, 'bad.safetensors');
  const corrupt = files.manifest.slice();
  corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
  await writeFile(bad, corrupt);
  execFileSync(join('node_modules', '.bin', 'wrangler'), ['r2', 'object', 'put', 'quiver-manifests/manifest.safetensors', '--file', bad, '--local', '--persist-to', state], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    stdio: 'pipe',
  });
  dev = await startWranglerDev(await freePort(), ['--persist-to', state, '--var', `QUIVER_BACKEND_URL:${vllm.url}`]);
}, 120_000);

afterAll(async () => {
  dev?.proc.kill('SIGTERM');
  await vllm?.close();
});

async function firstInputs(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const task of (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const line = (await readFile(join(dir, task, 'test.jsonl'), 'utf8')).split('\n')[0]!;
    out.push([task, (JSON.parse(line) as { input: string }).input]);
  }
  return out;
}

describe('edge worker in workerd (wrangler dev)', () => {
  it('routes exactly as quiver route --json on one prompt of every task and held-out task', async () => {
    const prompts = [...(await firstInputs('data/tasks')), ...(await firstInputs('data/heldout'))];
    expect(prompts.length).toBeGreaterThanOrEqual(37);
    for (const [task, input] of prompts) {
      const res = await fetch(`${dev!.url}/v1/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
      expect(res.status, task).toBe(200);
      const got = (await res.json()) as Json;
      const want = await runRoute(COMPILED, input, {});
      expect(got.adapters.map((a: Json) => a.id), task).toEqual(want.selected.map((s) => s.id));
      for (let i = 0; i < want.selected.length; i++) expect(Math.abs(got.adapters[i].weight - want.selected[i]!.weight), task).toBeLessThan(1e-6);
      for (let i = 0; i < want.scores.length; i++) expect(Math.abs(got.scores[i].score - want.scores[i]!.score), task).toBeLessThan(1e-6);
      expect(got.tokens).toBe(want.tokens);
    }
    // And the command itself, on a few of them: its --json output is the same routing.
    for (const [task, input] of prompts.slice(0, 3)) {
      const cli = await runCli(['route', COMPILED, input, '--json']);
      expect(cli.code, cli.stderr).toBe(0);
      const want = JSON.parse(cli.stdout) as Json;
      const got = (await (await fetch(`${dev!.url}/v1/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) })).json()) as Json;
      expect(got.adapters.map((a: Json) => a.id), task).toEqual(want.selected.map((s: Json) => s.id));
      for (let i = 0; i < want.scores.length; i++) expect(Math.abs(got.scores[i].score - want.scores[i].score), task).toBeLessThan(1e-6);
    }
  }, 120_000);

  it('keeps routing with the bundled library while /healthz reports the refused R2 manifest', async () => {
    for (let i = 0; i < 2; i++) {
      const h = (await (await fetch(`${dev!.url}/healthz`)).json()) as Json;
      expect(h).toMatchObject({ ok: true, source: 'bundled', refusal: { reason: expect.stringMatching(/checksum mismatch/), key: 'manifest.safetensors' } });
    }
    const adapters = (await (await fetch(`${dev!.url}/v1/adapters`)).json()) as Json;
    expect(adapters.adapters.map((a: Json) => a.id)).toEqual(ids);
    expect((await fetch(`${dev!.url}/nope`)).status).toBe(404);
  });

  it('serves the official openai client, plain and streaming, through the routed backend', async () => {
    const client = new OpenAI({ baseURL: `${dev!.url}/v1`, apiKey: 'unused-with-QUIVER_AUTH-none', maxRetries: 0 });
    const prompt = 'Reverse the word: apple';
    const want = await runRoute(COMPILED, prompt, {});
    const top = want.selected[0]!.id;

    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: prompt }], max_tokens: 8 }).withResponse();
    expect(data.choices[0]!.message.content).toBe(`answer from ${top}`);
    expect(response.headers.get('x-quiver-adapters')).toBe(`${top}=1`);
    expect(response.headers.get('x-quiver-manifest')).toMatch(/^sha256:/);
    expect(vllm.requests.at(-1)!.body.model).toBe(top);

    const stream = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: prompt }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(`answer from ${top}`);

    const completion = await client.completions.create({ model: 'auto', prompt, max_tokens: 8 });
    expect(completion.choices[0]!.text).toBe(`answer from ${top}`);
    const streamed = await client.completions.create({ model: 'auto', prompt, stream: true });
    let t = '';
    for await (const chunk of streamed) t += chunk.choices[0]?.text ?? '';
    expect(t).toBe(`answer from ${top}`);

    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: prompt }] })).rejects.toMatchObject({ status: 404 });
  }, 60_000);
});
