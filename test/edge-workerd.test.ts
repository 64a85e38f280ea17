/**
 * End to end in workerd: `wrangler dev` runs the real worker bundle against a local R2 bucket
 * holding a manifest written by `quiver import`. Slow (wrangler start-up), so one test.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { Rng } from '../shared/random.js';
import { runCli } from './helpers/run-cli.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const WRANGLER = join(process.cwd(), 'node_modules', '.bin', 'wrangler');
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let dev: ChildProcess | null = null;
afterAll(() => {
  dev?.kill('SIGTERM');
});

describe('edge worker in workerd (wrangler dev)', () => {
  it('serves /v1/adapters from a manifest in local R2', async () => {
    const root = await tempDir();
    const rng = new Rng(3);
    for (const id of ['alpha', 'beta'])
      await writePeftAdapter(join(root, 'lib', id), {
        baseModel: 'quiver/tiny', r: 2, loraAlpha: 4, targetModules: ['q_proj'],
        modules: [{ key: 'model.layers.0.self_attn.q_proj', a: rng.normals(16), b: rng.normals(16), r: 2, dIn: 8, dOut: 8 }],
      });
    expect((await runCli(['import', join(root, 'lib'), '--out', join(root, 'out'), '-q'])).code).toBe(0);
    const state = join(root, 'state');
    execFileSync(WRANGLER, ['r2', 'object', 'put', 'quiver-manifests/manifest.safetensors', '--file', join(root, 'out', 'manifest.safetensors'), '--local', '--persist-to', state], { env, stdio: 'pipe' });
    const port = await freePort();
    dev = spawn(WRANGLER, ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state], { env, stdio: 'pipe' });
    let log = '';
    dev.stdout?.on('data', (d) => (log += String(d)));
    dev.stderr?.on('data', (d) => (log += String(d)));
    let body: unknown = null;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && body === null) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/adapters`);
        if (res.ok) body = await res.json();
      } catch {
        // not listening yet
      }
    }
    expect(body, `wrangler dev did not answer within 60 s:\n${log}`).not.toBeNull();
    expect((body as { adapters: Array<{ id: string }> }).adapters.map((a) => a.id)).toEqual(['alpha', 'beta']);
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(missing.status).toBe(404);
  }, 120_000);
});
