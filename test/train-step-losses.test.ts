/**
 * The training step was rewritten for speed (issue 10); its loss curve must not move. Each run of
 * test/helpers/train-curves.ts is compared, step by step, with the losses and gradient norms the
 * step gave before the rewrite, recorded once in test/fixtures/train-step-losses.json. The
 * tolerance is float32 rounding carried through a few AdamW steps: a changed summation order
 * moves the losses by ~1e-6, a real change in the math by far more than 1e-4.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { selectBackend } from '../build/model/backend.js';
import { TRAIN_CURVES } from './helpers/train-curves.js';

const Curve = z.strictObject({ losses: z.array(z.number()), gradNorms: z.array(z.number()), finalLoss: z.number() });
const Fixture = z.strictObject({ recordedWith: z.string(), curves: z.record(z.string(), Curve) });
const fixture = Fixture.parse(JSON.parse(readFileSync(new URL('./fixtures/train-step-losses.json', import.meta.url), 'utf8')));

const RELATIVE = 1e-4;

function expectClose(got: readonly number[], want: readonly number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(Math.abs(g - w), `${what}[${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(RELATIVE * Math.max(1, Math.abs(w)));
  });
}

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

describe('the training step gives the loss curve it gave before it was made faster', () => {
  it('covers every recorded run', () => {
    expect(Object.keys(TRAIN_CURVES).sort()).toEqual(Object.keys(fixture.curves).sort());
  });

  const check = (name: string): void => {
    const want = fixture.curves[name]!;
    const got = TRAIN_CURVES[name]!();
    expectClose(got.losses, want.losses, 'loss');
    expectClose(got.gradNorms, want.gradNorms, 'gradient norm');
    expectClose([got.finalLoss], [want.finalLoss], 'final loss');
  };

  for (const name of Object.keys(TRAIN_CURVES)) it(name, () => check(name));

  // tfjs-node and tfjs-node-gpu take the same code as the pure-JavaScript cpu backend where wasm
  // has a path of its own (attention's products as batched matmuls, not depthwise convolutions).
  it('on the cpu backend too: the path of the native and GPU backends', async () => {
    await selectBackend('cpu', { log: () => undefined });
    try {
      check('lora-qkvo-gqa-padded');
      check('pretrain');
    } finally {
      await selectBackend('wasm', { log: () => undefined });
    }
  });
});
