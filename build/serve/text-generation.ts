/**
 * One request's generation as text events, the part both served APIs share: the prompt ids go to
 * the engine, each token comes back decoded (text-stream.ts, with the API's stop-string rule), and
 * the events queue up for the HTTP handler to send at the client's pace (async-queue.ts).
 */
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import type { AdapterChoice } from './adapter-choice.js';
import { AsyncQueue } from './async-queue.js';
import type { FinishReason, GenerationEngine } from './generation-engine.js';
import { TokenSampler, type SamplingParams } from './sampling.js';
import { badRequest, type ServeError } from './serve-error.js';
import { TextStream, type StopMode } from './text-stream.js';

export interface TextGenerationRequest {
  promptIds: readonly number[];
  adapter: AdapterChoice;
  sampling: SamplingParams;
  maxNewTokens: number;
  ignoreEos?: boolean;
  stop: readonly string[];
  stopMode: StopMode;
  signal?: AbortSignal;
}

export type TextEvent =
  | {
      type: 'token';
      id: number;
      logprob: number;
      /** The text this token completes ('' inside a multi-byte character; the token's own text for <eos>). */
      tokenText: string;
      special: boolean;
      /** Output text that may be streamed now (stop-string hold-back applied). */
      delta: string;
    }
  | {
      type: 'end';
      reason: FinishReason;
      /** The whole output text. */
      text: string;
      /** Output text not streamed yet. */
      delta: string;
      /** The stop string that ended it (reason 'stop'). */
      stop: string | null;
      generatedTokens: number;
    }
  | { type: 'error'; error: ServeError };

export interface TextGeneration {
  events: AsyncQueue<TextEvent>;
  /** The sampler's seed (null when greedy). */
  seed: number | null;
  promptTokens: number;
}

/**
 * Checks that the prompt and the generation fit the model's context — the error names `param`,
 * vLLM's message form — and returns the largest number of new tokens that fits.
 */
export function fitContext(promptTokens: number, maxNewTokens: number | null, context: number, param: string): number {
  if (promptTokens >= context) {
    throw badRequest(`This model's maximum context length is ${context} tokens. However, your prompt has ${promptTokens} tokens; leave room for at least one generated token.`, 'prompt');
  }
  if (maxNewTokens === null) return context - promptTokens;
  if (promptTokens + maxNewTokens > context) {
    throw badRequest(
      `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens + maxNewTokens} tokens (${promptTokens} in the prompt, ${maxNewTokens} for the completion). Please reduce the length of the prompt or ${param}.`,
      param,
    );
  }
  return maxNewTokens;
}

export function startTextGeneration(engine: GenerationEngine, tokenizer: Tokenizer, req: TextGenerationRequest): TextGeneration {
  const events = new AsyncQueue<TextEvent>();
  const text = new TextStream(tokenizer, req.stop, req.stopMode);
  const sampler = new TokenSampler(req.sampling);
  let generated = 0;
  engine.submit({
    prompt: req.promptIds,
    adapter: req.adapter,
    sampler,
    maxNewTokens: req.maxNewTokens,
    ignoreEos: req.ignoreEos ?? false,
    ...(req.signal ? { signal: req.signal } : {}),
    onToken(token) {
      generated++;
      const tokenText = token.eos ? tokenizer.decode([token.id]) : text.push(token.id);
      events.push({ type: 'token', id: token.id, logprob: token.logprob, tokenText, special: token.eos, delta: token.eos ? '' : text.takeDelta(false) });
      return text.stopped !== null;
    },
    onEnd(end) {
      if ('error' in end) events.push({ type: 'error', error: end.error });
      else {
        text.finish();
        events.push({ type: 'end', reason: end.reason, text: text.text, delta: text.takeDelta(true), stop: text.stopped, generatedTokens: generated });
      }
      events.close();
    },
  });
  return { events, seed: sampler.seed, promptTokens: req.promptIds.length };
}
