/**
 * Generated ids → text, token by token, with stop strings:
 *  - a token that ends inside a multi-byte UTF-8 character adds no text until the character is
 *    complete (decoding would show U+FFFD), as vLLM's and LoRAX's incremental detokenizers do;
 *  - 'truncate' (vLLM): the output ends before the first stop string found, and while streaming,
 *    the last (longest stop − 1) characters are held back, since they could begin a stop string;
 *  - 'suffix' (LoRAX, TGI's StopSequenceCriteria): generation stops once the text ends with a stop
 *    string, which stays in the output.
 * Special tokens (<eos>) are not part of the text.
 */
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';

export type StopMode = 'truncate' | 'suffix';

export class TextStream {
  private readonly ids: number[] = [];
  private stable = '';
  private output = '';
  private emitted = 0;
  private readonly holdBack: number;
  /** The stop string that ended the text, if one did. */
  stopped: string | null = null;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stops: readonly string[],
    private readonly mode: StopMode,
  ) {
    const longest = Math.max(0, ...stops.map((s) => s.length));
    this.holdBack = mode === 'truncate' && longest > 0 ? longest - 1 : 0;
  }

  /** The text so far: final once `stopped` is set or finish() was called. */
  get text(): string {
    return this.output;
  }

  /** Adds a generated (non-special) token; returns the text it completes (LoRAX's `token.text`). */
  push(id: number): string {
    if (this.stopped !== null) throw new Error('push after a stop string');
    this.ids.push(id);
    const decoded = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
    if (decoded.endsWith('\uFFFD')) return ''; // an unfinished character: wait for its last byte
    const before = this.stable.length;
    const tokenText = decoded.slice(before);
    this.stable = decoded;
    this.output = decoded;
    for (const stop of this.stops) {
      if (stop.length === 0) continue;
      if (this.mode === 'suffix') {
        if (decoded.endsWith(stop)) this.stopped = stop;
      } else {
        const at = decoded.indexOf(stop, Math.max(0, before - stop.length + 1));
        if (at >= 0 && (this.stopped === null || at < this.output.length)) {
          this.stopped = stop;
          this.output = decoded.slice(0, at);
        }
      }
      if (this.stopped !== null && this.mode === 'suffix') break;
    }
    return tokenText;
  }

  /** The end of generation without a stop string: any unfinished character shows as U+FFFD, as in a full decode. */
  finish(): void {
    if (this.stopped === null) this.output = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
  }

  /** Text not yet sent that may be sent now (all of it once `final`). */
  takeDelta(final: boolean): string {
    const limit = final || this.stopped !== null ? this.output.length : Math.max(this.emitted, this.output.length - this.holdBack);
    const delta = this.output.slice(this.emitted, limit);
    this.emitted = Math.max(this.emitted, limit);
    return delta;
  }
}
