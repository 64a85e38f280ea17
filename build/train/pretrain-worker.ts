/**
 * Child-process entry of data-parallel pretraining (pretrain-workers.ts): builds a replica of the
 * base on 'init', and for every 'step' sets the replica to the step's weights and answers each
 * shard's loss and gradient. Exits when the parent disconnects.
 */
import { selectBackend } from '../model/backend.js';
import { LlamaModel } from '../model/llama.js';
import { assignFlatWeights, shardGrads } from './gradient-shards.js';
import { WorkerRequest, type WorkerReply } from './pretrain-workers.js';

const send = (m: WorkerReply) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));

let model: LlamaModel | null = null;

process.once('disconnect', () => process.exit(0));

process.on('message', async (raw) => {
  try {
    const request = WorkerRequest.parse(raw);
    if (request.type === 'init') {
      await selectBackend(request.backend, { log: () => undefined });
      // Any weights: every step brings the real ones.
      model = LlamaModel.random(request.config, 0, { trainable: true });
      await send({ type: 'ready' });
      return;
    }
    if (!model) throw new Error("a 'step' before 'init'");
    assignFlatWeights(model, request.weights);
    const replica = model;
    await send({ type: 'grads', results: request.shards.map((b) => shardGrads(replica, b)) });
  } catch (err) {
    await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
