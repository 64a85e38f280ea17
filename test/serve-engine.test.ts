/**
 * quiver serve's generation core on a tiny random Llama (no training): the continuous-batching
 * engine against one-prompt-at-a-time greedy decoding with the model's own deltas (a Lora, a
 * mergeLoras merge, an ArrowRouter), seeded sampling against softmax frequencies, stop strings and
 * UTF-8 in the text stream, and Quiver's chat template against Python's jinja2 as transformers
 * configures it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../shared/random.js';
import { ByteTokenizer } from '../shared/tokenizer/byte-tokenizer.js';
import { promptIds } from '../shared/router/prompt-ids.js';
import { fixedAdapter } from '../build/eval/row-adapter.js';
import { greedyGenerate } from '../build/eval/greedy-generate.js';
import { ArrowRouter, arrowPrototypes, type ArrowExpert } from '../build/model/arrow-router.js';
import { selectBackend } from '../build/model/backend.js';
import { QUIVER_CHAT_TEMPLATE, renderChatTemplate, ChatTemplateError } from '../build/model/chat-template.js';
import type { AdapterDelta } from '../build/model/llama.js';
import { LlamaModel } from '../build/model/llama.js';
import { Lora, mergeLoras, type LoraModule } from '../build/model/lora.js';
import { moduleKey, projectionShape } from '../build/model/projections.js';
import { mixClassOf, type AdapterChoice, type ServedLora } from '../build/serve/adapter-choice.js';
import { GenerationEngine, type FinishReason } from '../build/serve/generation-engine.js';
import { GREEDY, TokenSampler, type SamplingParams } from '../build/serve/sampling.js';
import { startTextGeneration } from '../build/serve/text-generation.js';
import { TextStream } from '../build/serve/text-stream.js';
import { runPython } from './helpers/python.js';
import { tinyConfig, tinyWeights } from './helpers/tiny-llama.js';

const config = tinyConfig({ vocabSize: 259, maxPositionEmbeddings: 48 });
const tok = new ByteTokenizer();
let model: LlamaModel;
const loras: Lora[] = [];
const served: ServedLora[] = [];

function randomModules(seed: number, r: number): LoraModule[] {
  const rng = new Rng(seed);
  const out: LoraModule[] = [];
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    for (const name of ['q_proj', 'v_proj', 'o_proj'] as const) {
      const { dIn, dOut } = projectionShape(config, name);
      out.push({ key: moduleKey(layer, name), a: rng.normals(r * dIn, 0.3), b: rng.normals(dOut * r, 0.3) });
    }
  }
  return out;
}

beforeAll(async () => {
  await selectBackend('wasm', { log: () => {} });
  const weights = tinyWeights(config, 3);
  model = LlamaModel.fromHfTensors(config, (name) => weights.get(name)!.data);
  for (let i = 0; i < 3; i++) {
    const modules = randomModules(100 + i, 4);
    const lora = Lora.fromModules(config, { r: 4, loraAlpha: 8 }, modules);
    loras.push(lora);
    const expert: ArrowExpert = { r: 4, scale: 2, modules: lora.modules() };
    served.push({ name: `a${i}`, key: `a${i}#1`, path: `/a${i}`, expert, loraAlpha: 8, mixClass: mixClassOf(expert, 8) });
  }
});

interface Result {
  tokens: number[];
  reason: FinishReason | 'error';
}

function run(engine: GenerationEngine, prompt: number[], adapter: AdapterChoice, sampling: SamplingParams, maxNewTokens: number, signal?: AbortSignal): Promise<Result> {
  return new Promise((resolve) => {
    const tokens: number[] = [];
    engine.submit({
      prompt,
      adapter,
      sampler: new TokenSampler(sampling),
      maxNewTokens,
      ...(signal ? { signal } : {}),
      onToken: (t) => {
        tokens.push(t.id);
        return false;
      },
      onEnd: (end) => resolve({ tokens, reason: 'error' in end ? 'error' : end.reason }),
    });
  });
}

function solo(prompt: number[], delta: AdapterDelta | null, maxNewTokens: number): number[] {
  return greedyGenerate(model, [prompt], { eosId: tok.eosId, padId: tok.padId, maxNewTokens, adapter: fixedAdapter(delta) })[0]!;
}

const mix = (parts: Array<[number, number]>): AdapterChoice => ({ kind: 'mix', parts: parts.map(([i, weight]) => ({ lora: served[i]!, weight })) });

describe('the generation engine', () => {
  it('batches base, adapter, merge and per-token Arrow rows and gives each what greedy decoding alone gives', async () => {
    const router = new ArrowRouter(config, served.map((s) => s.expert), arrowPrototypes(config, served.map((s) => s.expert)), { topK: 2, temperature: 1, mix: 'parameters' });
    const merged = mergeLoras(loras, [0.5, 0.3, 0.2]);
    try {
      const prompts = ['Reverse: stone', 'ab', 'Upper: apple pie', 'x y z', 'Add 12 and 30'].map((p) => promptIds(tok, p));
      const choices: AdapterChoice[] = [{ kind: 'base' }, mix([[0, 1]]), mix([[1, 1]]), mix([[0, 0.5], [1, 0.3], [2, 0.2]]), { kind: 'router', router: { name: 'r', root: '', delta: router } }];
      const deltas: Array<AdapterDelta | null> = [null, loras[0]!, loras[1]!, merged, router];
      const engine = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 8 });
      const got = await Promise.all(prompts.map((p, i) => run(engine, p, choices[i]!, GREEDY, 7)));
      const want = prompts.map((p, i) => solo(p, deltas[i]!, 7));
      expect(got.map((g) => g.tokens.filter((t) => t !== tok.eosId))).toEqual(want);
      // The adapters matter: the rows do not all decode alike.
      expect(new Set(want.map((w) => w.join())).size).toBeGreaterThan(3);
      // One at a time through the engine gives the same tokens as in a batch.
      const one = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 1 });
      const sequential = await Promise.all(prompts.map((p, i) => run(one, p, choices[i]!, GREEDY, 7)));
      expect(sequential).toEqual(got);
      engine.close();
      one.close();
    } finally {
      router.dispose();
      merged.dispose();
    }
  });

  it('queues what does not fit the batch, answers all, and never runs more than maxBatch at once', async () => {
    const engine = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 2 });
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        new Promise<number>((resolve) => {
          engine.submit({
            prompt: promptIds(tok, `prompt ${i}`),
            adapter: i % 2 ? mix([[i % 3, 1]]) : { kind: 'base' },
            sampler: new TokenSampler(GREEDY),
            maxNewTokens: 4,
            onToken: () => {
              peak = Math.max(peak, engine.stats.running);
              return false;
            },
            onEnd: () => resolve(i),
          });
        }),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(2);
    expect(engine.stats).toMatchObject({ running: 0, queued: 0 });
  });

  it('batches continuously: short requests that arrive during a long one finish first', async () => {
    const engine = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 8 });
    const order: string[] = [];
    const job = (name: string, maxNewTokens: number) =>
      new Promise<void>((resolve) =>
        engine.submit({
          prompt: promptIds(tok, name),
          adapter: { kind: 'base' },
          sampler: new TokenSampler(GREEDY),
          maxNewTokens,
          ignoreEos: true,
          onToken: () => false,
          onEnd: () => {
            order.push(name);
            resolve();
          },
        }),
      );
    const long = job('long', 40);
    await new Promise((r) => setImmediate(r)); // the long one is running
    await Promise.all([long, job('short-1', 2), job('short-2', 3)]);
    expect(order).toEqual(['short-1', 'short-2', 'long']);
  });

  it('never waits for a reader: a generation nobody drains runs to its end beside others', async () => {
    const engine = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 8 });
    const undrained = startTextGeneration(engine, tok, { promptIds: promptIds(tok, 'nobody reads'), adapter: { kind: 'base' }, sampling: GREEDY, maxNewTokens: 20, ignoreEos: true, stop: [], stopMode: 'truncate' });
    const drained = startTextGeneration(engine, tok, { promptIds: promptIds(tok, 'read'), adapter: mix([[0, 1]]), sampling: GREEDY, maxNewTokens: 20, ignoreEos: true, stop: [], stopMode: 'truncate' });
    const events: string[] = [];
    for await (const e of drained.events) events.push(e.type);
    expect(events.at(-1)).toBe('end');
    // The other one also ended: its 20 tokens and the end sit in its queue.
    let n = 0;
    for await (const e of undrained.events) if (e.type === 'token') n++;
    expect(n).toBe(20);
    expect(engine.stats.running).toBe(0);
  });

  it('ends a cancelled request at once and one whose callback throws with an error, and serves the rest', async () => {
    const engine = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 4 });
    const abort = new AbortController();
    const cancelled = new Promise<Result>((resolve) => {
      const tokens: number[] = [];
      engine.submit({
        prompt: promptIds(tok, 'cancel me'),
        adapter: { kind: 'base' },
        sampler: new TokenSampler(GREEDY),
        maxNewTokens: 30,
        signal: abort.signal,
        onToken: (t) => {
          tokens.push(t.id);
          if (tokens.length === 2) abort.abort();
          return false;
        },
        onEnd: (end) => resolve({ tokens, reason: 'error' in end ? 'error' : end.reason }),
      });
    });
    const failing = new Promise<string>((resolve) => {
      engine.submit({
        prompt: promptIds(tok, 'boom'),
        adapter: mix([[2, 1]]),
        sampler: new TokenSampler(GREEDY),
        maxNewTokens: 5,
        onToken: () => {
          throw new Error('client bug');
        },
        onEnd: (end) => resolve('error' in end ? end.error.message : end.reason),
      });
    });
    const fine = run(engine, promptIds(tok, 'fine'), mix([[2, 1]]), GREEDY, 5);
    expect(await cancelled).toEqual({ tokens: expect.any(Array), reason: 'cancelled' });
    expect((await cancelled).tokens).toHaveLength(2);
    expect(await failing).toMatch(/client bug/);
    expect((await fine).tokens.filter((t) => t !== tok.eosId)).toEqual(solo(promptIds(tok, 'fine'), loras[2]!, 5));
    const before = tf.memory().numTensors;
    await run(engine, promptIds(tok, 'again'), mix([[0, 0.5], [1, 0.5]]), GREEDY, 3);
    await run(engine, promptIds(tok, 'again'), mix([[0, 0.5], [1, 0.5]]), GREEDY, 3);
    // The second identical merge reuses the cached mix: no tensor is left behind per request.
    const after = tf.memory().numTensors;
    await run(engine, promptIds(tok, 'again'), mix([[0, 0.5], [1, 0.5]]), GREEDY, 3);
    expect(tf.memory().numTensors).toBe(after);
    expect(after - before).toBeLessThanOrEqual(20);
    engine.close();
  });

  it('samples with the request seed: the same seed gives the same tokens whatever runs beside it', async () => {
    const engine = new GenerationEngine(model, { padId: tok.padId, eosId: tok.eosId, maxBatch: 8 });
    const params = (seed: number): SamplingParams => ({ temperature: 1.5, topK: 0, topP: 1, seed });
    const alone = await run(engine, promptIds(tok, 'seeded'), mix([[1, 1]]), params(7), 8);
    const [crowded] = await Promise.all([
      run(engine, promptIds(tok, 'seeded'), mix([[1, 1]]), params(7), 8),
      run(engine, promptIds(tok, 'other prompt'), mix([[0, 1]]), params(1), 8),
      run(engine, promptIds(tok, 'third'), { kind: 'base' }, GREEDY, 8),
    ]);
    expect(crowded).toEqual(alone);
    const other = await run(engine, promptIds(tok, 'seeded'), mix([[1, 1]]), params(8), 8);
    expect(other.tokens).not.toEqual(alone.tokens);
    engine.close();
  });
});

describe('TokenSampler', () => {
  const logits = Float32Array.from([0, 1, 2, -1]);
  const softmax = (xs: number[]) => {
    const m = Math.max(...xs);
    const e = xs.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };
  const frequencies = (p: SamplingParams, n = 20000) => {
    const s = new TokenSampler(p);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[s.next(logits).id]!++;
    return counts.map((c) => c / n);
  };

  it('is greedy at temperature 0, with the log-softmax of the chosen token', () => {
    const t = new TokenSampler(GREEDY).next(logits);
    expect(t.id).toBe(2);
    expect(t.logprob).toBeCloseTo(Math.log(softmax([0, 1, 2, -1])[2]!), 6);
    expect(new TokenSampler(GREEDY).seed).toBeNull();
  });

  it('draws in proportion to softmax(logits / temperature), cut to top-k then top-p', () => {
    const full = frequencies({ temperature: 2, topK: 0, topP: 1, seed: 1 });
    softmax([0, 0.5, 1, -0.5]).forEach((p, i) => expect(full[i]).toBeCloseTo(p, 1));
    const k2 = frequencies({ temperature: 1, topK: 2, topP: 1, seed: 2 });
    const p12 = softmax([1, 2]);
    expect(k2).toEqual([0, expect.closeTo(p12[0]!, 1), expect.closeTo(p12[1]!, 1), 0]);
    // softmax([0,1,2,-1]) ≈ [0.087, 0.237, 0.644, 0.032]: top-p 0.8 keeps tokens 2 and 1.
    const p80 = frequencies({ temperature: 1, topK: 0, topP: 0.8, seed: 3 });
    expect(p80[0]).toBe(0);
    expect(p80[3]).toBe(0);
    expect(p80[2]).toBeCloseTo(p12[1]!, 1);
    const one = new TokenSampler({ temperature: 1, topK: 1, topP: 1, seed: 4 }).next(logits);
    expect(one).toEqual({ id: 2, logprob: 0 });
  });
});

describe('TextStream', () => {
  const ids = (s: string) => tok.encode(s);

  it('adds a multi-byte character only once its last byte is in', () => {
    const t = new TextStream(tok, [], 'truncate');
    const got = ids('aé€').map((id) => t.push(id));
    expect(got).toEqual(['a', '', 'é', '', '', '€']);
    t.finish();
    expect(t.text).toBe('aé€');
  });

  it("vLLM's rule: the text ends before the stop string, and a possible stop prefix is held back while streaming", () => {
    const t = new TextStream(tok, ['END', 'xyz'], 'truncate');
    const sent: string[] = [];
    for (const id of ids('abcENDmore')) {
      t.push(id);
      sent.push(t.takeDelta(false));
      if (t.stopped) break;
    }
    expect(t.stopped).toBe('END');
    expect(t.text).toBe('abc');
    expect(sent.join('') + t.takeDelta(true)).toBe('abc');
    // The last (longest stop − 1) = 2 characters wait: they could begin a stop string.
    expect(sent.slice(0, 3)).toEqual(['', '', 'a']);
  });

  it("LoRAX's rule: generation stops once the text ends with a stop string, which stays in", () => {
    const t = new TextStream(tok, ['ND'], 'suffix');
    for (const id of ids('abcENDmore')) {
      t.push(id);
      if (t.stopped) break;
    }
    expect(t.text).toBe('abcEND');
    expect(t.stopped).toBe('ND');
  });
});

describe("Quiver's chat template", () => {
  const conversations = [
    [{ role: 'user', content: 'Reverse the word: stone' }],
    [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'x' },
      { role: 'user', content: "it's {{ not }} <eos> \\ \"quoted\"\nline" },
    ],
  ];

  it('renders as jinja2 renders it in transformers (trim_blocks, lstrip_blocks, raise_exception)', () => {
    const script = [
      'import json, sys, jinja2',
      'from jinja2.sandbox import ImmutableSandboxedEnvironment',
      'def raise_exception(m): raise jinja2.exceptions.TemplateError(m)',
      'env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)',
      "env.globals['raise_exception'] = raise_exception",
      'job = json.load(sys.stdin)',
      "t = env.from_string(job['template'])",
      'out = []',
      "for m in job['conversations']:",
      '    try:',
      "        out.append(t.render(messages=m, bos_token='<bos>', eos_token='<eos>', add_generation_prompt=True))",
      '    except jinja2.exceptions.TemplateError as e:',
      "        out.append({'error': str(e)})",
      'print(json.dumps(out))',
    ].join('\n');
    const cases = [...conversations, [{ role: 'assistant', content: 'no user last' }], []];
    const jinja = JSON.parse(new TextDecoder().decode(runPython(script, JSON.stringify({ template: QUIVER_CHAT_TEMPLATE, conversations: cases })))) as Array<string | { error: string }>;
    const ours = cases.map((m) => {
      try {
        return renderChatTemplate(QUIVER_CHAT_TEMPLATE, m, '<bos>');
      } catch (err) {
        return { error: (err as Error).message };
      }
    });
    expect(ours).toEqual(jinja);
    // And the rendered text tokenizes to the prompt ids training saw.
    expect(tok.encode(ours[0] as string)).toEqual(promptIds(tok, 'Reverse the word: stone'));
  });

  it('refuses a template it cannot render, and a missing one', () => {
    expect(() => renderChatTemplate('{{ messages[0].content }}', conversations[0]!, '<bos>')).toThrow(ChatTemplateError);
    expect(() => renderChatTemplate(null, conversations[0]!, '<bos>')).toThrow(/no chat_template/);
  });
});
