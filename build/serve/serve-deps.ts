import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import type { GenerationEngine } from './generation-engine.js';
import type { ServedModels } from './served-models.js';

/** What the routes of both APIs work with. */
export interface ServeDeps {
  engine: GenerationEngine;
  tokenizer: Tokenizer;
  models: ServedModels;
  /** tokenizer_config.json's `chat_template`, or null. */
  chatTemplate: string | null;
  /** The model's context (max_position_embeddings): prompt + generated tokens fit in it. */
  context: number;
  /** Token ids must be below this. */
  vocabSize: number;
}
