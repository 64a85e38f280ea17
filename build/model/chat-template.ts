/**
 * The chat template of a Quiver checkpoint (`chat_template` in its tokenizer_config.json): a task
 * model answers one input, so a conversation renders as `<bos>` + the last user message + the
 * training separator — the ids shared/router/prompt-ids.ts builds and training saw. vLLM (or
 * transformers' apply_chat_template) renders it with Jinja; `quiver serve` has no Jinja engine and
 * renders exactly this template, by its meaning, refusing any other (test/serve-chat-template.test.ts
 * checks the two against Python's jinja2 as transformers configures it).
 */
import { PROMPT_SEPARATOR } from '../../shared/router/prompt-ids.js';
import { tokenizerConfigFor } from '../../shared/router/router-tokenizer.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';

/** A Jinja string literal. */
function jinjaString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

export const LAST_MESSAGE_NOT_USER = 'the conversation must end with a user message (this single-turn task model answers it)';

export const QUIVER_CHAT_TEMPLATE =
  `{%- if not messages or messages[-1]['role'] != 'user' -%}{{ raise_exception(${jinjaString(LAST_MESSAGE_NOT_USER)}) }}{%- endif -%}` +
  `{{ bos_token }}{{ messages[-1]['content'] }}{{ ${jinjaString(PROMPT_SEPARATOR)} }}`;

/** A message as the template sees it: text content (vLLM joins text parts with "\n" first). */
export interface TemplateMessage {
  role: string;
  content: string;
}

export class ChatTemplateError extends Error {
  override readonly name = 'ChatTemplateError';
}

/**
 * Renders `messages` with `template`, which must be QUIVER_CHAT_TEMPLATE; any other template (or a
 * missing one) is refused, since rendering it differently from Jinja would serve wrong prompts.
 */
export function renderChatTemplate(template: string | null, messages: readonly TemplateMessage[], bosToken: string): string {
  if (template === null) throw new ChatTemplateError('the model has no chat_template in tokenizer_config.json; use /v1/completions, or give the checkpoint Quiver\'s template');
  if (template !== QUIVER_CHAT_TEMPLATE) {
    throw new ChatTemplateError("this chat_template is not one quiver serve can render: it renders only Quiver's single-turn template (<bos> + the last user message + the separator), not arbitrary Jinja");
  }
  const last = messages.at(-1);
  if (!last || last.role !== 'user') throw new ChatTemplateError(LAST_MESSAGE_NOT_USER);
  return bosToken + last.content + PROMPT_SEPARATOR;
}

/**
 * `tokenizer_config.json` of a checkpoint Quiver saves: the special tokens and context (as the
 * compiled folder has them), the chat template, and the plain fast-tokenizer class, so that
 * transformers and vLLM use tokenizer.json as it is (it has no post-processor: raw prompts get no
 * <bos> added, as in Quiver) and decode without cleaning up spaces.
 */
export function checkpointTokenizerConfig(tokenizer: Tokenizer, modelMaxLength: number): Record<string, unknown> {
  return {
    ...tokenizerConfigFor(tokenizer, modelMaxLength),
    chat_template: QUIVER_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}
