import { z } from 'zod';
import { QuiverInputError } from './errors.js';
import { jsonlValues } from './jsonl.js';

/**
 * Task data: one example per JSONL line, `{"input": "...", "output": "..."}`, with
 * `"options": [...]` for a multiple-choice task (then `output` is one of them). Pure: the
 * caller reads the file (as strict UTF-8: shared/utf8-text.ts), so this runs in Node and in
 * workerd alike.
 */

const FIELDS = ['input', 'output', 'options'] as const;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function text(field: string) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `field "${field}" is missing`
          : `field "${field}" must be a string, got ${kindOf(issue.input)}`,
    })
    .min(1, { error: `field "${field}" must not be empty` });
}

export const TaskExample = z
  .strictObject(
    {
      input: text('input'),
      output: text('output'),
      options: z
        .array(z.string({ error: (issue) => `must be a string, got ${kindOf(issue.input)}` }).min(1, { error: 'must not be empty' }), {
          error: (issue) => `field "options" must be a list of strings, got ${kindOf(issue.input)}`,
        })
        .optional(),
    },
    {
      error: (issue) => {
        if (issue.code === 'unrecognized_keys') {
          const keys = issue.keys.map((k) => `"${k}"`).join(', ');
          return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} (allowed: ${FIELDS.join(', ')})`;
        }
        if (issue.code === 'invalid_type') return `expected a JSON object {"input": ..., "output": ...}, got ${kindOf(issue.input)}`;
        return undefined;
      },
    },
  )
  .superRefine((example, ctx) => {
    if (example.options === undefined) return;
    if (example.options.length < 2) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'field "options" needs at least 2 choices' });
    }
    if (new Set(example.options).size !== example.options.length) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: `options repeat a choice: ${JSON.stringify(example.options)}` });
    }
    if (!example.options.includes(example.output)) {
      ctx.addIssue({
        code: 'custom',
        path: ['output'],
        message: `output ${JSON.stringify(example.output)} is not one of the options ${JSON.stringify(example.options)}`,
      });
    }
  });
export type TaskExample = z.infer<typeof TaskExample>;

/**
 * A rule an example must also meet, beyond the schema, that depends on who reads it (e.g. that it
 * fits a model's context): the reason it is refused, or null.
 */
export type ExampleCheck = (example: TaskExample) => string | null;

/**
 * Parses a task's JSONL text. Blank lines are skipped. Throws QuiverInputError naming
 * `source:line` (1-based) and what is wrong — the schema's complaint or `check`'s; a file with
 * no example is refused too.
 */
export function parseTaskJsonl(text: string, source: string, check?: ExampleCheck): TaskExample[] {
  const examples: TaskExample[] = [];
  for (const { value, where } of jsonlValues(text, source)) {
    const result = TaskExample.safeParse(value);
    if (!result.success) throw new QuiverInputError(result.error.issues.map(describeIssue).join('; '), where);
    const refused = check?.(result.data);
    if (refused) throw new QuiverInputError(refused, where);
    examples.push(result.data);
  }
  if (examples.length === 0) {
    throw new QuiverInputError('no examples: the file is empty (a task needs at least one {"input", "output"} line)', source);
  }
  return examples;
}

/** Messages name their field; an option's message gets its index (`options[1]: must be a string`). */
function describeIssue(issue: z.core.$ZodIssue): string {
  const index = issue.path[1];
  return issue.path[0] === 'options' && typeof index === 'number' ? `options[${index}]: ${issue.message}` : issue.message;
}

/** The inverse of parseTaskJsonl: one line per example, keys in a fixed order, final newline. */
export function formatTaskJsonl(examples: readonly TaskExample[]): string {
  return examples
    .map(({ input, output, options }) => JSON.stringify(options === undefined ? { input, output } : { input, output, options }) + '\n')
    .join('');
}

/** One entry of `data/tasks/suite.json`. */
export const SuiteTask = z.strictObject({
  name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  family: z.string().min(1),
  heldOut: z.boolean(),
  /** The prompt with its placeholders (`{x}`, `{a}`, `{country}`, ...). */
  template: z.string().min(1),
  domain: z.string().min(1),
  source: z.string().min(1),
  multipleChoice: z.boolean(),
  counts: z.strictObject({
    train: z.number().int().nonnegative(),
    valid: z.number().int().nonnegative(),
    test: z.number().int().nonnegative(),
  }),
  /** For a held-out task: the family whose adapters should solve it. */
  relatedFamily: z.string().min(1).optional(),
});
export type SuiteTask = z.infer<typeof SuiteTask>;

/** `data/tasks/suite.json`: the task list plus what a trainer needs to format examples. */
export const TaskSuite = z.strictObject({
  seed: z.number().int().nonnegative(),
  /** Put between input and output when training and when scoring: `input + separator + output`. */
  separator: z.string(),
  limits: z.strictObject({
    maxInputBytes: z.number().int().positive(),
    maxOutputBytes: z.number().int().positive(),
  }),
  families: z.array(z.strictObject({ family: z.string().min(1), skill: z.string().min(1) })),
  tasks: z.array(SuiteTask),
});
export type TaskSuite = z.infer<typeof TaskSuite>;

/** Where a task's split files live, relative to the repository root. */
export function suiteTaskDir(task: Pick<SuiteTask, 'name' | 'heldOut'>): string {
  return `${task.heldOut ? 'data/heldout' : 'data/tasks'}/${task.name}`;
}
