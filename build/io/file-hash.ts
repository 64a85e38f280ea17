import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 hex of a file, streamed (checkpoints can be gigabytes). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
