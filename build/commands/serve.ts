import type { Command } from 'commander';
import { parseNonNegativeInt, parsePositiveInt } from '../cli-options.js';
import { BACKEND_NAMES, type BackendName } from '../model/backend.js';
import { SERVE_DEFAULTS, startServe } from '../serve/start-serve.js';
import { parseBackend } from './pretrain.js';

interface ServeCommandOptions {
  port: number;
  host: string;
  maxBatch: number;
  backend?: BackendName;
}

/**
 * `quiver serve <library>`: the library's base model and adapters behind vLLM's OpenAI-compatible
 * API and LoRAX's /generate (build/serve/). Prints the URL alone on stdout once listening (the line
 * a script waits for); stops cleanly on SIGINT or SIGTERM.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      "Serve a trained library: the base model, every private and MBC adapter, and per-token Arrow routers (quiver-arrow-private, quiver-arrow-mbc) " +
        "behind vLLM's OpenAI-compatible routes (/v1/models, /v1/completions, /v1/chat/completions, /v1/load_lora_adapter, /v1/unload_lora_adapter) " +
        "and LoRAX's /generate and /generate_stream. Requests are batched continuously. Prints the URL on stdout once listening.",
    )
    .argument('<library>', 'library folder (library.json, as quiver train writes it)')
    .option('--port <n>', 'port to listen on (0: any free port)', parseNonNegativeInt, SERVE_DEFAULTS.port)
    .option('--host <host>', 'address to listen on', SERVE_DEFAULTS.host)
    .option('--max-batch <n>', 'requests generating at once; more wait in a queue', parsePositiveInt, 32)
    .option('--backend <name>', `force a TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .action(async (library: string, opts: ServeCommandOptions) => {
      const server = await startServe({ library, port: opts.port, host: opts.host, maxBatch: opts.maxBatch, ...(opts.backend ? { backend: opts.backend } : {}) });
      process.stderr.write(`serving ${server.models.length} models: ${server.models.join(', ')}\n`);
      process.stdout.write(`${server.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await server.close();
    });
}
