import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';

async function installed(pkg: string): Promise<boolean> {
  return import(pkg).then(
    () => true,
    () => false,
  );
}

describe('selectBackend', () => {
  it('takes the first backend that loads and says which', async () => {
    const lines: string[] = [];
    const chosen = await selectBackend(undefined, { log: (l) => lines.push(l) });
    const nativeFirst = (await installed('@tensorflow/tfjs-node-gpu')) || (await installed('@tensorflow/tfjs-node'));
    if (!nativeFirst) {
      expect(chosen.name).toBe('wasm');
      expect(lines).toEqual(['backend: wasm (SIMD, 1 thread)']);
      expect(tf.getBackend()).toBe('wasm');
    }
    expect(lines).toHaveLength(1);
  });

  it('fails clearly when a forced backend cannot load, and switches when it can', async () => {
    if (!(await installed('@tensorflow/tfjs-node'))) {
      await expect(selectBackend('tfjs-node', { log: () => undefined })).rejects.toThrow(/backend tfjs-node could not be loaded .*install @tensorflow\/tfjs-node/);
    }
    await expect(selectBackend('tpu' as never, { log: () => undefined })).rejects.toThrow(/unknown backend "tpu"/);
    expect((await selectBackend('cpu', { log: () => undefined })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend('wasm', { log: () => undefined })).name).toBe('wasm');
  });
});
