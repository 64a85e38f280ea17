/** `wrangler dev` as a child process on a free loopback port, ready once /healthz answers. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface WranglerDev {
  url: string;
  proc: ChildProcess;
  log: () => string;
}

/** Starts the worker of this checkout; rejects with wrangler's output if it does not answer in time. */
export async function startWranglerDev(port: number, extraArgs: string[] = [], timeoutMs = 90_000): Promise<WranglerDev> {
  const wrangler = join(process.cwd(), 'node_modules', '.bin', 'wrangler');
  const proc = spawn(wrangler, ['dev', '--ip', '127.0.0.1', '--port', String(port), ...extraArgs], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout?.on('data', (d) => (log += String(d)));
  proc.stderr?.on('data', (d) => (log += String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, proc, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  proc.kill('SIGTERM');
  throw new Error(`wrangler dev did not answer within ${timeoutMs} ms:\n${log}`);
}
