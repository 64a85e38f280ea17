/** What the app's handlers need, built once per isolate by worker.ts (or by a test). */
import type { Backend } from './backends/backend.js';
import type { EdgeConfig } from './config.js';
import type { LibraryStore } from './library-store.js';

export interface AppDeps {
  config: EdgeConfig;
  library: LibraryStore;
  backend: Backend;
}

/** Deps, or the ConfigError that stops them being built (every request then answers 503 with it). */
export type GetDeps = () => AppDeps;
