/**
 * Usage errors exit 2 with one line, as README promises, from the real process (bin/quiver.js on
 * the dist/ compiled by the globalSetup); --help marks required options and prints each default once.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyUsageConventions } from '../build/cli-usage.js';
import { createProgram } from '../build/program.js';

function quiver(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/quiver.js', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

describe('quiver usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['train', '--no-such-option'], /^quiver: unknown option '--no-such-option' \(see quiver train --help\)\n$/],
    [['no-such-command'], /^quiver: unknown command 'no-such-command' \(see quiver --help\)\n$/],
    [['compile', 'library'], /^quiver: required option '-o, --out <dir>' not specified \(see quiver compile --help\)\n$/],
    [['train', '--shard', '3/2'], /^quiver: --shard: "3\/2" is not a shard i\/N with 1 ≤ i ≤ N \(e\.g\. 2\/4\) \(see quiver train --help\)\n$/],
    [['train', '--epochs', '0'], /^quiver: --epochs: "0" is not a positive number \(see quiver train --help\)\n$/],
    [['eval', 'library', '--top-k', '0'], /^quiver: --top-k: "0" is not a positive integer \(see quiver eval --help\)\n$/],
    [['eval', 'library', '--systems', 'foo'], /^quiver: --systems: unknown system foo: choose from base, .*\(see quiver eval --help\)\n$/],
  ];

  it('exit 2 with one line naming the option or command', async () => {
    const results = await Promise.all(cases.map(([args]) => quiver(args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ args, code: 2, stderr: expect.stringMatching(message), stdout: '' });
    });
  }, 60_000);

  it('--help and --version exit 0 on stdout; no command at all is a usage error', async () => {
    const [help, version, none] = await Promise.all([quiver(['train', '--help']), quiver(['--version']), quiver([])]);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: quiver train \[options\]/);
    expect([version.code, version.stdout.trim()]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/quiver: a command is needed \(see quiver --help\)\n$/);
  }, 60_000);
});

describe('quiver --help', () => {
  const program = applyUsageConventions(createProgram());

  it('marks every required option and prints each default at most once', () => {
    let required = 0;
    for (const cmd of program.commands) {
      const help = cmd.createHelp();
      for (const option of cmd.options) {
        const text = help.optionDescription(option);
        expect((text.match(/default/gi) ?? []).length, `${cmd.name()} ${option.flags}: ${text}`).toBeLessThanOrEqual(1);
        expect(text.includes('(required)'), `${cmd.name()} ${option.flags}: ${text}`).toBe(option.mandatory);
        if (option.mandatory) required++;
      }
    }
    expect(required).toBeGreaterThanOrEqual(4); // import, cluster, pretrain and compile --out
    expect(program.commands.find((c) => c.name() === 'import')!.helpInformation()).toMatch(/-o, --out <dir> .*\(required\)/s);
  });
});
