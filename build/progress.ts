/**
 * Progress lines on stderr for long work: `[3/120] adapter-x  1.2s  ETA 2m 24s`. On a terminal the
 * line is rewritten in place; in logs (CI, pipes) every step is its own line.
 */
export interface Progress {
  step(label: string): void;
  done(summary?: string): void;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(total: number, opts: { stream?: NodeJS.WriteStream; quiet?: boolean } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const start = Date.now();
  let i = 0;
  return {
    step(label) {
      i++;
      if (opts.quiet) return;
      const elapsed = Date.now() - start;
      const eta = i < total ? `  ETA ${formatDuration((elapsed / i) * (total - i))}` : '';
      const line = `[${i}/${total}] ${label}  ${formatDuration(elapsed)}${eta}`;
      stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    done(summary) {
      if (opts.quiet) return;
      if (tty) stream.write('\n');
      if (summary) stream.write(`${summary}\n`);
    },
  };
}
