/** The backend QUIVER_BACKEND names, configured from the worker's settings. */
import type { EdgeConfig } from '../config.js';
import type { Backend } from './backend.js';
import { LoraxBackend } from './lorax.js';
import { VllmBackend } from './vllm.js';
import { WorkersAiBackend, type AiBinding } from './workers-ai.js';

export function createBackend(config: EdgeConfig, ai: AiBinding | undefined): Backend {
  switch (config.QUIVER_BACKEND) {
    case 'vllm':
      return new VllmBackend(config.QUIVER_BACKEND_URL, config.QUIVER_BACKEND_API_KEY);
    case 'lorax':
      return new LoraxBackend({
        baseUrl: config.QUIVER_BACKEND_URL,
        apiKey: config.QUIVER_BACKEND_API_KEY,
        adapterSource: config.QUIVER_LORAX_ADAPTER_SOURCE,
        adapterPrefix: config.QUIVER_ADAPTER_PREFIX,
      });
    case 'workers-ai':
      return new WorkersAiBackend(ai, config.QUIVER_WORKERS_AI_MODEL);
  }
}
