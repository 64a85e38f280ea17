/**
 * What a chat request is routed on. The adapters were trained on single task inputs
 * (`<bos> input ' '` → output, prompt-ids.ts), so the routed text of a conversation is the text of
 * its last user message: that is the turn the answer must serve, and system prompts or earlier
 * turns shared by every task would only blur the Arrow scores. Content given as parts joins its
 * text parts with newlines (images and other parts carry no routing signal for a text base).
 */
export interface ChatMessageLike {
  role: string;
  content?: string | ReadonlyArray<{ type: string; text?: string }> | null;
}

/** The text of one message's content. */
export function messageText(content: ChatMessageLike['content']): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.flatMap((p) => (p.type === 'text' && typeof p.text === 'string' ? [p.text] : [])).join('\n');
}

/** The routed prompt of a conversation: its last user message's text; null when it has none. */
export function chatRoutedPrompt(messages: readonly ChatMessageLike[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return messageText(messages[i]!.content);
  return null;
}
