/** The worker's `Env` type is what `wrangler types` generates from wrangler.toml and .dev.vars today. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('edge/worker-configuration.d.ts', () => {
  it('is up to date with wrangler.toml (npm run edge:types regenerates it)', () => {
    let out = '';
    let code = 0;
    try {
      out = execFileSync(join('node_modules', '.bin', 'wrangler'), ['types', '--include-runtime=false', '--check', 'edge/worker-configuration.d.ts'], {
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      code = (err as { status?: number }).status ?? 1;
      out = String((err as { stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
    }
    expect(code, out).toBe(0);
    expect(out).toMatch(/up to date/);
  }, 30_000);
});
