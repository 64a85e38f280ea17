import { pick, pickDistinct } from '../sampling.js';
import { defineFamily, fillTemplate, type DrawContext, type TaskDef } from '../task-def.js';
import type { TaskExample } from '../../../shared/task-data.js';

/**
 * How a task builds its prompt from the closed sentiment vocabulary:
 * - `pair`: one positive and one negative word; the answer is the positive one.
 * - `review`: two words of the same polarity; the answer is `good` or `bad`.
 * - `said`: a first name and one word; the answer is `happy` or `sad`.
 */
type Shape = 'pair' | 'review' | 'said';

interface SentimentTask extends TaskDef {
  shape: Shape;
}

const SHAPES: Record<Shape, (template: string, ctx: DrawContext) => TaskExample> = {
  pair(template, { rng, pools }) {
    const good = pick(rng, pools.sentiment.positive);
    const bad = pick(rng, pools.sentiment.negative);
    const options = rng.next() < 0.5 ? [good, bad] : [bad, good];
    return { input: fillTemplate(template, { a: options[0] as string, b: options[1] as string }), output: good, options };
  },
  review(template, { rng, pools }) {
    const positive = rng.next() < 0.5;
    const [a, b] = pickDistinct(rng, positive ? pools.sentiment.positive : pools.sentiment.negative, 2) as [string, string];
    return { input: fillTemplate(template, { a, b }), output: positive ? 'good' : 'bad', options: ['good', 'bad'] };
  },
  said(template, { rng, pools }) {
    const positive = rng.next() < 0.5;
    const x = pick(rng, positive ? pools.sentiment.positive : pools.sentiment.negative);
    const name = pick(rng, pools.name.items);
    return { input: fillTemplate(template, { name, x }), output: positive ? 'happy' : 'sad', options: ['happy', 'sad'] };
  },
};

/** Tell good words from bad ones: a lookup over a closed vocabulary of 24 + 24 AFINN words. */
export const sentimentTasks = defineFamily<SentimentTask>({
  family: 'sentiment',
  skill: 'tell positive words from negative ones (AFINN valence)',
  multipleChoice: true,
  tasks: [
    { name: 'sentiment-pick-positive', template: 'Which is positive: {a} or {b}?', domain: 'one positive and one negative word', shape: 'pair' },
    { name: 'sentiment-review', template: 'Review: {a}, {b}. Good or bad?', domain: 'two words of one polarity', shape: 'review' },
    { name: 'sentiment-said', template: "{name} said '{x}'. Happy or sad?", domain: 'first name and one word', shape: 'said' },
    // Held out: a new template on the two-word reviews of sentiment-review.
    { name: 'sentiment-tone', template: "Tone of '{a} {b}': good or bad?", domain: 'two words of one polarity', shape: 'review', heldOut: true },
    // Held out: a new template on sentiment-pick-positive's pairs.
    { name: 'sentiment-positive-one', template: 'Positive one: {a} or {b}?', domain: 'one positive and one negative word', shape: 'pair', heldOut: true },
  ],
  source: (task, pools) => (task.shape === 'said' ? `${pools.sentiment.source}; ${pools.name.source}` : pools.sentiment.source),
  draw: (task, ctx) => SHAPES[task.shape](task.template, ctx),
});
