import type { Rng } from '../../shared/random.js';
import type { TaskExample } from '../../shared/task-data.js';
import type { DomainPools } from './domains.js';

/**
 * Limits that every example of the default suite keeps. The base model reads bytes, has a
 * 96-byte context and little capacity: prompt (48) + separator (1) + answer (12) + end token
 * leaves room to spare, and short answers keep a few hundred LoRA steps enough.
 */
export const SUITE_LIMITS = {
  maxInputBytes: 48,
  maxOutputBytes: 12,
  /** Examples per split of a training task (issue: 600 / 100 / 100). */
  train: 600,
  valid: 100,
  test: 100,
} as const;

/** What a family's draw function gets: the task's own random stream and the word lists. */
export interface DrawContext {
  rng: Rng;
  pools: DomainPools;
}

/** One task as a family file writes it: small and declarative. */
export interface TaskDef {
  name: string;
  /** The prompt with placeholders (`{x}`, `{a}`, ...) that the family's draw fills in. */
  template: string;
  /** Where the inputs come from, in words (`word`, `name`, `2-digit number`, ...). */
  domain: string;
  /** A held-out task: a new template or a new domain for the family's skill. */
  heldOut?: boolean;
}

/** A family: one skill, several tasks that differ in template and input domain. */
export interface FamilyDef<T extends TaskDef> {
  family: string;
  /** The skill in a few words, for the README and the report. */
  skill: string;
  multipleChoice: boolean;
  tasks: readonly T[];
  /** Where the task's data comes from (package@version, or `synthetic`). */
  source(task: T, pools: DomainPools): string;
  /** One candidate example; the generator drops duplicates and ones over the byte limits. */
  draw(task: T, ctx: DrawContext): TaskExample;
}

/** A task with its family's behaviour bound in, so families of different shapes share a list. */
export interface TaskSpec {
  name: string;
  family: string;
  skill: string;
  heldOut: boolean;
  template: string;
  domain: string;
  multipleChoice: boolean;
  source(pools: DomainPools): string;
  draw(ctx: DrawContext): TaskExample;
}

export function defineFamily<T extends TaskDef>(def: FamilyDef<T>): TaskSpec[] {
  return def.tasks.map((task) => ({
    name: task.name,
    family: def.family,
    skill: def.skill,
    heldOut: task.heldOut ?? false,
    template: task.template,
    domain: task.domain,
    multipleChoice: def.multipleChoice,
    source: (pools) => def.source(task, pools),
    draw: (ctx) => def.draw(task, ctx),
  }));
}

/** Fills `{name}` placeholders; a placeholder without a value is a bug in a family file. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template ${JSON.stringify(template)} has no value for {${key}}`);
    return value;
  });
}
