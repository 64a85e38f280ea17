/**
 * The PyTorch half of `npm run bench -- train-step`: bench/train-step-torch.py in a child process
 * that stays up, so the two steps can be timed in turns (this machine is shared, and only figures
 * taken side by side compare). One thread, as the TensorFlow.js step has: OPENBLAS_NUM_THREADS
 * and OMP_NUM_THREADS must be set before torch loads its BLAS, so they go in the environment.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const SCRIPT = fileURLToPath(new URL('../../bench/train-step-torch.py', import.meta.url));

const Ready = z.object({ ready: z.literal(true), torch: z.string(), threads: z.number(), blas: z.string() });
const Losses = z.object({ losses: z.array(z.number()) });
/** Per step: wall-clock ms and the CPU ms of the reference's process. */
const Timed = z.object({ ms: z.number(), cpuMs: z.number() });
export type StepTime = z.infer<typeof Timed>;

export type TorchInfo = Omit<z.infer<typeof Ready>, 'ready'>;

export interface TorchReference {
  python: string;
  info: TorchInfo;
  /** Losses of `steps` steps from the initial weights, a fresh run with its own schedule. */
  losses(steps: number, lr: number, dropout: number): Promise<number[]>;
  /** Wall and CPU ms per step over `steps` more steps of the timing run. */
  time(steps: number): Promise<StepTime>;
  close(): void;
}

/** The first python that imports torch and numpy (a pyenv python3 may shadow the system one), or null. */
export function findTorchPython(): string | null {
  const candidates = [process.env.QUIVER_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    try {
      execFileSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
      return python;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Starts the reference on the folder bench/train-step.ts wrote (spec.json, weights.bin, batches.bin). */
export async function startTorchReference(python: string, folder: string): Promise<TorchReference> {
  const child = spawn(python, [SCRIPT, folder], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(schema: z.ZodType<T>): Promise<T> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${SCRIPT} exited (${child.exitCode ?? 'signal'}) before answering`);
    return schema.parse(JSON.parse(value as string));
  };
  const ask = async <T>(command: object, schema: z.ZodType<T>): Promise<T> => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    return next(schema);
  };
  const { ready: _ready, ...info } = await next(Ready);
  return {
    python,
    info,
    losses: async (steps, lr, dropout) => (await ask({ cmd: 'losses', steps, lr, dropout }, Losses)).losses,
    time: async (steps) => ask({ cmd: 'time', steps }, Timed),
    close: () => {
      child.stdin.end();
    },
  };
}
