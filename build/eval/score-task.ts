/**
 * One system on one task's examples: accuracy and test loss.
 *  - accuracy: a multiple-choice example (one with `options`) counts as right when its output is
 *    the option with the highest total log-likelihood of `option <eos>` after the prompt (ties: the
 *    first option); any other example when the greedy generation (up to <eos> or `maxNewTokens`)
 *    decodes to exactly its output — a generation stops early once it cannot match any more;
 *  - loss: the mean per-token loss of `output <eos>` after the prompt over the task (token-weighted,
 *    as training reports test loss);
 *  - hits: which examples were right, so two systems can be compared example by example (the
 *    paired bootstrap, paired-bootstrap.ts).
 * Prompts and answers are the bytes training saw (encode-examples.ts).
 */
import { argmax } from '../../shared/arrow/top-k.js';
import type { TaskExample } from '../../shared/task-data.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import type { LlamaModel } from '../model/llama.js';
import { encodeExample, encodePrompt } from '../train/encode-examples.js';
import { answerLogLikelihoods, type ScoredPair } from './answer-log-likelihood.js';
import { greedyGenerate } from './greedy-generate.js';
import type { RowAdapter } from './row-adapter.js';

export interface ScoreOptions {
  maxNewTokens: number;
  separator?: string;
  /** Predictions to keep (the first examples), for reading the report. */
  samples?: number;
}

export interface Sample {
  input: string;
  output: string;
  prediction: string;
}

export interface TaskScore {
  accuracy: number;
  correct: number;
  examples: number;
  /** One character per example, in example order: '1' right, '0' wrong (a string: compact in eval.json). */
  hits: string;
  loss: number;
  answerTokens: number;
  samples: Sample[];
}

/**
 * True when no continuation of `text` can decode to `output`: text is not a prefix of it. Decoding
 * concatenates tokens, except that an unfinished UTF-8 sequence shows as U+FFFD until its last
 * byte arrives, so such a text is not judged yet.
 */
export function cannotMatch(text: string, output: string): boolean {
  return !text.endsWith('\uFFFD') && !output.startsWith(text);
}

export function scoreTask(model: LlamaModel, tokenizer: Tokenizer, examples: readonly TaskExample[], adapter: RowAdapter, opts: ScoreOptions): TaskScore {
  const padId = tokenizer.padId;
  if (padId === null) throw new RangeError('scoring batches need a pad token; the tokenizer has none');
  const sep = opts.separator;
  const predictions: string[] = new Array(examples.length);

  // Every option of every multiple-choice example, plus the reference answer of every example
  // (for the loss; for a multiple-choice example it is one of its options).
  const pairs: ScoredPair[] = [];
  const reference: number[] = [];
  const optionPairs: number[][] = examples.map(() => []);
  examples.forEach((ex, row) => {
    const prompt = encodePrompt(tokenizer, ex.input, sep);
    if (ex.options) {
      for (const option of ex.options) {
        if (option === ex.output) reference[row] = pairs.length;
        optionPairs[row]!.push(pairs.length);
        pairs.push({ prompt, answer: encodeExample(tokenizer, { input: ex.input, output: option }, sep).answer, row });
      }
    } else {
      reference[row] = pairs.length;
      pairs.push({ prompt, answer: encodeExample(tokenizer, ex, sep).answer, row });
    }
  });
  const likelihoods = answerLogLikelihoods(model, pairs, padId, adapter);

  const open = examples.map((ex, row) => (ex.options ? -1 : row)).filter((row) => row >= 0);
  if (open.length > 0) {
    const prompts = open.map((row) => encodePrompt(tokenizer, examples[row]!.input, sep));
    const shown = opts.samples ?? 3;
    const generated = greedyGenerate(model, prompts, {
      eosId: tokenizer.eosId,
      padId,
      maxNewTokens: opts.maxNewTokens,
      adapter: (rows) => adapter(rows.map((i) => open[i]!)),
      // A row whose text has left the reference cannot match any more: stop it (the exact-match
      // count is unchanged, most of the decoding of a weak system is saved). Rows kept as samples
      // run to the end so the report shows what the system says.
      stop: (i, ids) => open[i]! >= shown && cannotMatch(tokenizer.decode(ids), examples[open[i]!]!.output),
    });
    open.forEach((row, i) => (predictions[row] = tokenizer.decode(generated[i]!)));
  }
  examples.forEach((ex, row) => {
    if (!ex.options) return;
    // The option of highest log-likelihood; a tie goes to the earlier option (top-k.ts's rule).
    predictions[row] = ex.options[argmax(optionPairs[row]!.map((p) => likelihoods[p]!.logLikelihood))]!;
  });

  let hits = '';
  let correct = 0;
  let nll = 0;
  let tokens = 0;
  examples.forEach((ex, row) => {
    const right = predictions[row] === ex.output;
    hits += right ? '1' : '0';
    if (right) correct++;
    const ref = likelihoods[reference[row]!]!;
    nll -= ref.logLikelihood;
    tokens += ref.tokens;
  });
  return {
    accuracy: examples.length === 0 ? Number.NaN : correct / examples.length,
    correct,
    examples: examples.length,
    hits,
    loss: tokens === 0 ? Number.NaN : nll / tokens,
    answerTokens: tokens,
    samples: examples.slice(0, opts.samples ?? 3).map((ex, row) => ({ input: ex.input, output: ex.output, prediction: predictions[row]! })),
  };
}
