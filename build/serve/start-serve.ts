/**
 * Starts `quiver serve` in this process: picks the TensorFlow.js backend (tfjs-node-gpu where
 * installed, else wasm on CPU: build/model/backend.ts), loads the library, and listens. Returns once
 * the server accepts connections, with its URL; `close()` stops listening, ends running requests and
 * frees the model. Tests, scripts and the CLI all start it here.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { BackendName } from '../model/backend.js';
import { selectBackend } from '../model/backend.js';
import { GenerationEngine, type EngineStats } from './generation-engine.js';
import { createServeApp } from './serve-app.js';
import { loadServeLibrary } from './serve-library.js';

export interface StartServeOptions {
  library: string;
  /** Default 8000 (vLLM's); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  backend?: BackendName;
  /** Requests generating at once (default 32). */
  maxBatch?: number;
  log?: (line: string) => void;
}

export interface RunningServe {
  /** `http://host:port`, no trailing slash. */
  url: string;
  /** The served model names, as /v1/models lists them. */
  models: string[];
  /** The engine's counters: requests running and queued, iterations, tokens generated. */
  stats(): EngineStats;
  close(): Promise<void>;
}

export const SERVE_DEFAULTS = { port: 8000, host: '127.0.0.1' } as const;

export async function startServe(opts: StartServeOptions): Promise<RunningServe> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  await selectBackend(opts.backend, { log });
  const lib = await loadServeLibrary(opts.library);
  const { tokenizer, model } = lib;
  if (tokenizer.padId === null && tokenizer.eosId === null) {
    lib.dispose();
    throw new Error('the tokenizer has neither a pad nor an eos token to pad batches with');
  }
  const engine = new GenerationEngine(model, { padId: tokenizer.padId ?? tokenizer.eosId!, eosId: tokenizer.eosId, maxBatch: opts.maxBatch });
  const app = createServeApp({ engine, tokenizer, models: lib.models, chatTemplate: lib.chatTemplate, context: model.config.maxPositionEmbeddings, vocabSize: model.config.vocabSize });
  const server = createAdaptorServer({ fetch: app.fetch });
  const host = opts.host ?? SERVE_DEFAULTS.host;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? SERVE_DEFAULTS.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    engine.close();
    lib.dispose();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    models: lib.models.cards().data.map((m) => m.id),
    stats: () => engine.stats,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        engine.close();
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }).then(() => lib.dispose())),
  };
}
