/**
 * LoRAX's native routes: POST /generate and POST /generate_stream (SSE of StreamResponse; the last
 * event carries generated_text and, with `details`, the finish reason — no [DONE], as LoRAX).
 * `parameters.adapter_id` names an adapter or an Arrow router as on the vLLM routes;
 * `parameters.merged_adapters` is a LoRAX `linear` merge (Σw·A, Σw·B with the weights as given).
 * Inputs are tokenized as LoRAX's router does with this tokenizer.json: no <bos> is added.
 */
import type { Context, Hono } from 'hono';
import { asServeError, loraxErrorBody } from './error-bodies.js';
import type { FinishReason } from './generation-engine.js';
import { GenerateRequest, type FinishReason as LoraxFinishReason, type GenerateResponse, type StreamResponse, type Token } from './lorax-schemas.js';
import { validateParameters } from './lorax-validation.js';
import { readBody } from './request-body.js';
import { ServeError } from './serve-error.js';
import type { ServeDeps } from './serve-deps.js';
import { requestAbort, sseResponse } from './sse.js';
import { startTextGeneration, type TextEvent } from './text-generation.js';

/** LoRAX checks the token budget before <eos>: the last allowed token ends as "length" even when it is <eos>. */
function finishReason(reason: FinishReason, generated: number, maxNewTokens: number): LoraxFinishReason {
  if (generated >= maxNewTokens) return 'length';
  return reason === 'eos' ? 'eos_token' : reason === 'stop' ? 'stop_sequence' : 'length';
}

const token = (e: Extract<TextEvent, { type: 'token' }>): Token => ({ id: e.id, text: e.tokenText, logprob: e.logprob, special: e.special, skipped: false });

export function registerLoraxRoutes(app: Hono, deps: ServeDeps): void {
  const { engine, tokenizer, models } = deps;

  async function start(c: Context) {
    const body = await readBody(c, GenerateRequest);
    const p = body.parameters;
    const plan = validateParameters(p, body.inputs, models);
    const promptIds = tokenizer.encode(body.inputs);
    const maxTotal = deps.context;
    if (promptIds.length > maxTotal - 1) throw new ServeError('validation', `\`inputs\` must have less than ${maxTotal - 1} tokens. Given: ${promptIds.length}`, 'inputs');
    const maxNewTokens = plan.maxNewTokens ?? maxTotal - promptIds.length;
    if (promptIds.length + maxNewTokens > maxTotal) {
      throw new ServeError('validation', `\`inputs\` tokens + \`max_new_tokens\` must be <= ${maxTotal}. Given: ${promptIds.length} \`inputs\` tokens and ${maxNewTokens} \`max_new_tokens\``, 'parameters.max_new_tokens');
    }
    const abort = requestAbort(c);
    const gen = startTextGeneration(engine, tokenizer, { promptIds, adapter: plan.adapter, sampling: plan.sampling, maxNewTokens, ignoreEos: plan.ignoreEos, stop: plan.stop, stopMode: 'suffix', signal: abort.signal });
    const prefix = p.return_full_text ? body.inputs : '';
    return { gen, abort, maxNewTokens, prefix, details: p.details };
  }

  app.post('/generate', async (c) => {
    const { gen, maxNewTokens, prefix, details } = await start(c);
    const tokens: Token[] = [];
    for await (const e of gen.events) {
      if (e.type === 'error') throw e.error;
      if (e.type === 'token') tokens.push(token(e));
      if (e.type === 'end') {
        const res: GenerateResponse = { generated_text: prefix + e.text };
        if (details) {
          res.details = {
            finish_reason: finishReason(e.reason, e.generatedTokens, maxNewTokens),
            prompt_tokens: gen.promptTokens,
            generated_tokens: e.generatedTokens,
            skipped_tokens: 0,
            seed: gen.seed,
            prefill: [],
            tokens,
          };
        }
        return c.json(res);
      }
    }
    throw new ServeError('internal', 'the generation ended without a result');
  });

  app.post('/generate_stream', async (c) => {
    const { gen, abort, maxNewTokens, prefix, details } = await start(c);
    return sseResponse(c, abort, async (send) => {
      // The last token goes out with the end of the generation, as LoRAX's End event.
      let pending: Token | null = null;
      for await (const e of gen.events) {
        if (e.type === 'error') {
          await send(JSON.stringify(loraxErrorBody(e.error)));
          return;
        }
        if (e.type === 'token') {
          if (pending) await send(JSON.stringify({ token: pending, generated_text: null, details: null } satisfies StreamResponse));
          pending = token(e);
        }
        if (e.type === 'end' && pending) {
          const end: StreamResponse = {
            token: pending,
            generated_text: prefix + e.text,
            details: details ? { finish_reason: finishReason(e.reason, e.generatedTokens, maxNewTokens), prompt_tokens: gen.promptTokens, generated_tokens: e.generatedTokens, seed: gen.seed } : null,
          };
          await send(JSON.stringify(end));
        }
      }
    });
  });
}

/** LoRAX's error body for a failure on one of these routes. */
export function loraxErrorResponse(c: Context, err: unknown): Response {
  const e = asServeError(err);
  return c.json(loraxErrorBody(e), e.status);
}
