/**
 * OpenAI's response objects, built for backends whose native answers are not in that shape
 * (LoRAX's /generate, Workers AI): one completion, or the chunks of a streamed one.
 */
export type Endpoint = 'chat' | 'completion';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function completionId(endpoint: Endpoint): string {
  return `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${crypto.randomUUID().replaceAll('-', '')}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A whole answer: `chat.completion` or `text_completion`. */
export function completionObject(endpoint: Endpoint, model: string, text: string, finishReason: string | null, usage: Usage | undefined): Record<string, unknown> {
  const base = { id: completionId(endpoint), created: unixSeconds(), model };
  const choice = endpoint === 'chat' ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason, logprobs: null } : { index: 0, text, finish_reason: finishReason, logprobs: null };
  return { ...base, object: endpoint === 'chat' ? 'chat.completion' : 'text_completion', choices: [choice], ...(usage ? { usage } : {}) };
}

/** Builds the chunks of one streamed answer, all with the same id and creation time. */
export class ChunkWriter {
  private readonly id: string;
  private readonly created = unixSeconds();
  private started = false;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly model: string,
  ) {
    this.id = completionId(endpoint);
  }

  private chunk(choice: Record<string, unknown>, usage?: Usage): Record<string, unknown> {
    return {
      id: this.id,
      object: this.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, ...choice, logprobs: null }],
      ...(usage ? { usage } : {}),
    };
  }

  /** The chunks for a piece of text (a chat stream opens with the assistant's role). */
  text(text: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    if (this.endpoint === 'chat' && !this.started) out.push(this.chunk({ delta: { role: 'assistant', content: '' }, finish_reason: null }));
    this.started = true;
    if (text !== '') out.push(this.chunk(this.endpoint === 'chat' ? { delta: { content: text }, finish_reason: null } : { text, finish_reason: null }));
    return out;
  }

  /** The closing chunks: the finish reason, then usage in a chunk of its own when asked for. */
  finish(finishReason: string, usage: Usage | undefined, includeUsage: boolean): Array<Record<string, unknown>> {
    const out = this.text('');
    out.push(this.chunk(this.endpoint === 'chat' ? { delta: {}, finish_reason: finishReason } : { text: '', finish_reason: finishReason }));
    if (includeUsage && usage) out.push({ ...this.chunk({}), choices: [], usage });
    return out;
  }
}
