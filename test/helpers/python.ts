/**
 * python3 with numpy as an independent reference in tests. Tests that need it fail (never skip)
 * when it is missing, so a machine without it cannot pass by testing less.
 */
import { execFileSync } from 'node:child_process';

const CANDIDATES = ['python3', '/usr/bin/python3'];
let found: string | null | undefined;

/** The first python3 that can import numpy, or null. */
export function findPythonWithNumpy(): string | null {
  if (found !== undefined) return found;
  found = null;
  for (const candidate of CANDIDATES) {
    try {
      execFileSync(candidate, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 30_000 });
      found = candidate;
      break;
    } catch {
      // try the next one
    }
  }
  return found;
}

export function requirePython(): string {
  const python = findPythonWithNumpy();
  if (python === null) {
    throw new Error(
      'These tests check against numpy and need python3 with numpy: install python3-numpy ' +
        '(apt-get install python3-numpy; CI installs it). Tried: ' + CANDIDATES.join(', '),
    );
  }
  return python;
}

/** Runs `script` with `input` on stdin and extra argv; returns stdout. Throws with stderr on failure. */
export function runPython(script: string, input: Uint8Array | string = '', args: string[] = []): Uint8Array {
  const python = requirePython();
  try {
    const out = execFileSync(python, ['-c', script, ...args], {
      input,
      maxBuffer: 1 << 28,
      timeout: 60_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const stderr = (err as { stderr?: Uint8Array }).stderr;
    const detail = stderr === undefined ? '' : new TextDecoder().decode(stderr);
    throw new Error(`python reference script failed: ${(err as Error).message}\n${detail}`);
  }
}
