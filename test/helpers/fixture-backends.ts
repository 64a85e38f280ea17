/**
 * Real HTTP servers on loopback that speak vLLM's OpenAI-compatible API and LoRAX's native
 * /generate API — their request and response shapes, LoRAX's validation of adapter parameters —
 * and record every request, so tests see exactly what the worker sent. Answers name the model or
 * adapters that served them. A stream can be held after its first event until the test releases
 * it, which shows whether the worker passes events on as they come.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Recorded {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export interface Fixture {
  url: string;
  requests: Recorded[];
  /** Delay before answering (headers included), for timeout tests. */
  delayMs: number;
  /** When set, a stream stops after its first event until `release()` is called. */
  holdStreams: boolean;
  release(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (s += d));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function start(handler: (f: Fixture, r: Recorded, res: ServerResponse) => Promise<void>): Promise<Fixture> {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  const fixture: Fixture = {
    url: '',
    requests: [],
    delayMs: 0,
    holdStreams: false,
    release: () => {
      release();
      gate = new Promise<void>((r) => (release = r));
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  (fixture as Fixture & { gate: () => Promise<void> }).gate = () => gate;
  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return json(res, 400, { error: 'body is not JSON' });
    }
    const rec = { path: req.url ?? '', body, headers: req.headers };
    fixture.requests.push(rec);
    if (fixture.delayMs > 0) await new Promise((r) => setTimeout(r, fixture.delayMs));
    if (res.destroyed) return;
    await handler(fixture, rec, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fixture.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return fixture;
}

async function streamEvents(f: Fixture, res: ServerResponse, events: string[]): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (let i = 0; i < events.length; i++) {
    res.write(`data: ${events[i]}\n\n`);
    if (i === 0 && f.holdStreams) await (f as Fixture & { gate: () => Promise<void> }).gate();
  }
  res.end();
}

/** vLLM (`--enable-lora --lora-modules …`): `models` are the names it serves (base and adapters). */
export function vllmFixture(models: readonly string[]): Promise<Fixture> {
  return start(async (f, { path, body }, res) => {
    const chat = path === '/v1/chat/completions';
    if (!chat && path !== '/v1/completions') return json(res, 404, { error: { message: 'Not Found', type: 'NotFoundError', param: null, code: 404 } });
    const model = String(body.model);
    if (!models.includes(model)) return json(res, 404, { error: { message: `The model \`${model}\` does not exist.`, type: 'NotFoundError', param: 'model', code: 404 } });
    const pieces = ['answer', ' from ', model];
    const id = chat ? 'chatcmpl-fixture' : 'cmpl-fixture';
    if (body.stream === true) {
      const events = pieces.map((p) =>
        JSON.stringify(chat ? { id, object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] } : { id, object: 'text_completion', created: 1, model, choices: [{ index: 0, text: p, finish_reason: null }] }),
      );
      events.push(JSON.stringify(chat ? { id, object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] } : { id, object: 'text_completion', created: 1, model, choices: [{ index: 0, text: '', finish_reason: 'length' }] }), '[DONE]');
      return streamEvents(f, res, events);
    }
    const text = pieces.join('');
    const usage = { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 };
    json(res, 200, chat
      ? { id, object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length', logprobs: null }], usage }
      : { id, object: 'text_completion', created: 1, model, choices: [{ index: 0, text, finish_reason: 'length', logprobs: null }], usage });
  });
}

/** LoRAX's native API, with its checks of adapter_id / merged_adapters (router/src/validation). */
export function loraxFixture(adapters: readonly string[]): Promise<Fixture> {
  return start(async (f, { path, body }, res) => {
    if (path !== '/generate' && path !== '/generate_stream') return json(res, 404, { error: 'not found', error_type: 'not_found' });
    const p = (body.parameters ?? {}) as { adapter_id?: string; merged_adapters?: { ids?: string[]; weights?: number[]; merge_strategy?: string } };
    const refuse = (msg: string) => json(res, 422, { error: msg, error_type: 'validation' });
    if (typeof body.inputs !== 'string' || body.inputs === '') return refuse('`inputs` must be a non-empty string');
    let label = 'base';
    if (p.merged_adapters) {
      if (p.adapter_id) return refuse('adapter_id and merged_adapters cannot both be set');
      const { ids = [], weights = [] } = p.merged_adapters;
      if (ids.length === 0) return refuse('merged_adapters.ids must not be empty');
      if (weights.length !== ids.length) return refuse('merged_adapters.weights must have one weight per id');
      if (p.merged_adapters.merge_strategy !== 'linear') return refuse('unknown merge_strategy');
      for (const id of ids) if (!adapters.includes(id)) return refuse(`adapter ${id} not found`);
      label = ids.map((id, i) => `${id}*${weights[i]}`).join('+');
    } else if (p.adapter_id) {
      if (!adapters.includes(p.adapter_id)) return refuse(`adapter ${p.adapter_id} not found`);
      label = p.adapter_id;
    }
    const tokens = ['answer', ' from ', label];
    const details = { finish_reason: 'length', generated_tokens: tokens.length, prompt_tokens: body.inputs.length, seed: null };
    if (path === '/generate') return json(res, 200, { generated_text: tokens.join(''), details });
    const events = tokens.map((t, i) => JSON.stringify({ token: { id: i, text: t, logprob: -0.5, special: false }, generated_text: i === tokens.length - 1 ? tokens.join('') : null, details: i === tokens.length - 1 ? details : null }));
    return streamEvents(f, res, events);
  });
}
