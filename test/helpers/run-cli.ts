import { vi } from 'vitest';
import { reportCliError } from '../../build/cli-errors.js';
import { createProgram } from '../../build/program.js';

/** Runs `quiver <args>` in-process like bin/quiver.js does; captures stdout, stderr and exit code. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  let code = 0;
  try {
    const program = createProgram();
    program.exitOverride();
    program.commands.forEach((c) => c.exitOverride());
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    const commanderCode = (e as { exitCode?: number; code?: string }).code;
    if (typeof commanderCode === 'string' && commanderCode.startsWith('commander.')) {
      code = (e as { exitCode: number }).exitCode;
    } else {
      code = reportCliError(e);
    }
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { code, stdout, stderr };
}
