/**
 * vLLM's OpenAI-compatible routes: /v1/models, /v1/completions, /v1/chat/completions (the chat
 * template from tokenizer_config.json, build/model/chat-template.ts), /v1/load_lora_adapter and
 * /v1/unload_lora_adapter. `model` names the base model, an adapter or an Arrow router
 * (served-models.ts). Prompts are tokenized as vLLM does with this tokenizer: a raw completion
 * prompt gets no <bos> (tokenizer.json has no post-processor; write `<bos>` in the text for the
 * training form), the chat template adds it. Streams are SSE chunks ending with `data: [DONE]`.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { ChatTemplateError, renderChatTemplate, type TemplateMessage } from '../model/chat-template.js';
import type { AdapterChoice } from './adapter-choice.js';
import { asServeError, vllmErrorBody } from './error-bodies.js';
import type { FinishReason } from './generation-engine.js';
import {
  ChatCompletionRequest,
  CompletionRequest,
  LoadLoraAdapterRequest,
  UnloadLoraAdapterRequest,
  type ChatCompletionChunk,
  type ChatCompletionResponse,
  type CompletionResponse,
  type Usage,
} from './openai-schemas.js';
import { readBody } from './request-body.js';
import type { SamplingParams } from './sampling.js';
import { badRequest, ServeError } from './serve-error.js';
import type { ServeDeps } from './serve-deps.js';
import { requestAbort, sseResponse } from './sse.js';
import { fitContext, startTextGeneration, type TextEvent } from './text-generation.js';

const DONE = '[DONE]';

/** vLLM's finish_reason: <eos> and stop strings are both "stop". */
function finishReason(reason: FinishReason): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}

function sampling(body: { temperature?: number | null; top_p?: number | null; top_k?: number | null; seed?: number | null }): SamplingParams {
  return { temperature: body.temperature ?? 1, topP: body.top_p ?? 1, topK: body.top_k == null || body.top_k < 0 ? 0 : body.top_k, seed: body.seed ?? null };
}

const stops = (stop: string | string[] | null | undefined): string[] => (stop == null ? [] : typeof stop === 'string' ? [stop] : stop);

function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: null };
}

interface Prepared {
  adapter: AdapterChoice;
  promptIds: number[];
  maxTokens: number;
}

interface Generated {
  text: string;
  reason: FinishReason;
  stop: string | null;
  tokens: number;
}

/** Waits for the end of a generation that is not streamed. */
async function collect(events: AsyncIterable<TextEvent>): Promise<Generated> {
  for await (const e of events) {
    if (e.type === 'error') throw e.error;
    if (e.type === 'end') return { text: e.text, reason: e.reason, stop: e.stop, tokens: e.generatedTokens };
  }
  throw new ServeError('internal', 'the generation ended without a result');
}

export function registerOpenAiRoutes(app: Hono, deps: ServeDeps): void {
  const { engine, tokenizer, models } = deps;

  app.get('/v1/models', (c) => c.json(models.cards()));

  function checkIds(ids: number[], param: string): number[] {
    const bad = ids.find((id) => id >= deps.vocabSize);
    if (bad !== undefined) throw badRequest(`token id ${bad} is outside the vocabulary [0, ${deps.vocabSize})`, param);
    if (ids.length === 0) throw badRequest('Either prompt or prompt_embeds must be provided and non-empty.', param);
    return ids;
  }

  function start(c: Context, p: Prepared, body: CompletionRequest | ChatCompletionRequest) {
    const abort = requestAbort(c);
    const gen = startTextGeneration(engine, tokenizer, {
      promptIds: p.promptIds,
      adapter: p.adapter,
      sampling: sampling(body),
      maxNewTokens: p.maxTokens,
      ignoreEos: body.ignore_eos ?? false,
      stop: stops(body.stop),
      stopMode: 'truncate',
      signal: abort.signal,
    });
    const includeUsage = body.stream_options != null && body.stream_options.include_usage !== false;
    return { abort, gen, includeUsage };
  }

  app.post('/v1/completions', async (c) => {
    const body = await readBody(c, CompletionRequest);
    const model = body.model || models.baseName;
    const adapter = models.choice(body.model, 'model');
    const promptIds = checkIds(typeof body.prompt === 'string' ? tokenizer.encode(body.prompt) : Array.isArray(body.prompt) && typeof body.prompt[0] === 'string' ? tokenizer.encode(body.prompt[0]) : (body.prompt as number[]), 'prompt');
    const maxTokens = fitContext(promptIds.length, body.max_tokens ?? 16, deps.context, 'max_tokens');
    const { abort, gen, includeUsage } = start(c, { adapter, promptIds, maxTokens }, body);
    const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const response = (choices: CompletionResponse['choices'], u: Usage | null): CompletionResponse => ({ id, object: 'text_completion', created, model, choices, usage: u, system_fingerprint: null });
    if (!body.stream) {
      const g = await collect(gen.events);
      return c.json(response([{ index: 0, text: g.text, logprobs: null, finish_reason: finishReason(g.reason), stop_reason: g.stop }], usage(gen.promptTokens, g.tokens)));
    }
    return sseResponse(c, abort, async (send) => {
      for await (const e of gen.events) {
        if (e.type === 'error') {
          await send(JSON.stringify(vllmErrorBody(e.error)));
          break;
        }
        if (e.type === 'token' && e.delta) await send(JSON.stringify(response([{ index: 0, text: e.delta, logprobs: null, finish_reason: null, stop_reason: null }], null)));
        if (e.type === 'end') {
          await send(JSON.stringify(response([{ index: 0, text: e.delta, logprobs: null, finish_reason: finishReason(e.reason), stop_reason: e.stop }], null)));
          if (includeUsage) await send(JSON.stringify(response([], usage(gen.promptTokens, e.generatedTokens))));
        }
      }
      await send(DONE);
    });
  });

  app.post('/v1/chat/completions', async (c) => {
    const body = await readBody(c, ChatCompletionRequest);
    const model = body.model || models.baseName;
    const adapter = models.choice(body.model, 'model');
    const messages: TemplateMessage[] = body.messages.map((m) => ({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('\n'),
    }));
    let rendered: string;
    try {
      rendered = renderChatTemplate(deps.chatTemplate, messages, deps.tokenizer.bosId === null ? '' : tokenizer.decode([deps.tokenizer.bosId]));
    } catch (err) {
      if (err instanceof ChatTemplateError) throw badRequest(err.message, 'messages');
      throw err;
    }
    const promptIds = checkIds(tokenizer.encode(rendered), 'messages');
    const maxTokens = fitContext(promptIds.length, body.max_completion_tokens ?? body.max_tokens ?? null, deps.context, body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens');
    const { abort, gen, includeUsage } = start(c, { adapter, promptIds, maxTokens }, body);
    const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      const g = await collect(gen.events);
      const res: ChatCompletionResponse = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: g.text, refusal: null }, logprobs: null, finish_reason: finishReason(g.reason), stop_reason: g.stop }],
        usage: usage(gen.promptTokens, g.tokens),
        system_fingerprint: null,
      };
      return c.json(res);
    }
    const chunk = (choices: ChatCompletionChunk['choices'], u?: Usage): ChatCompletionChunk => ({ id, object: 'chat.completion.chunk', created, model, choices, ...(u ? { usage: u } : {}) });
    return sseResponse(c, abort, async (send) => {
      await send(JSON.stringify(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])));
      for await (const e of gen.events) {
        if (e.type === 'error') {
          await send(JSON.stringify(vllmErrorBody(e.error)));
          break;
        }
        if (e.type === 'token' && e.delta) await send(JSON.stringify(chunk([{ index: 0, delta: { content: e.delta }, logprobs: null, finish_reason: null }])));
        if (e.type === 'end') {
          await send(JSON.stringify(chunk([{ index: 0, delta: { content: e.delta }, logprobs: null, finish_reason: finishReason(e.reason), stop_reason: e.stop }])));
          if (includeUsage) await send(JSON.stringify(chunk([], usage(gen.promptTokens, e.generatedTokens))));
        }
      }
      await send(DONE);
    });
  });

  app.post('/v1/load_lora_adapter', async (c) => {
    const body = await readBody(c, LoadLoraAdapterRequest);
    if (body.load_inplace) throw badRequest('quiver serve does not support load_inplace', 'load_inplace');
    await models.load(body.lora_name, body.lora_path);
    return c.text(`Success: LoRA adapter '${body.lora_name}' added successfully.`);
  });

  app.post('/v1/unload_lora_adapter', async (c) => {
    const body = await readBody(c, UnloadLoraAdapterRequest);
    models.unload(body.lora_name);
    return c.text(`Success: LoRA adapter '${body.lora_name}' removed successfully.`);
  });
}

/** vLLM's error body for a failure on one of these routes. */
export function openAiErrorResponse(c: Context, err: unknown): Response {
  const e = asServeError(err);
  return c.json(vllmErrorBody(e), e.status);
}
