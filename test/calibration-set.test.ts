/**
 * data/calibration.jsonl, the labelled prompts shipped for `quiver calibrate` on the default
 * library: it is what `npm run calibration:generate` writes from the task folders today, and that
 * is every validation prompt — a training task's labelled with its own adapter, a held-out task's
 * with its family's adapters.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelledExamples } from '../build/calibrate/labelled-examples.js';
import { calibrationExamples, CALIBRATION_FILE, formatCalibrationJsonl } from '../build/tasks/generate-calibration.js';
import { TaskSuite } from '../shared/task-data.js';
import { MICRO_TASKS, writeMicroData } from './helpers/micro-library.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('the calibration set', () => {
  it(`${CALIBRATION_FILE} is not stale, and holds every validation prompt of the suite, labelled`, async () => {
    const fresh = formatCalibrationJsonl(await calibrationExamples('data/tasks', 'data/heldout'));
    expect(fresh === (await readFile(CALIBRATION_FILE, 'utf8')), `${CALIBRATION_FILE} is stale: run \`npm run build && npm run calibration:generate\` and commit it`).toBe(true);
    const suite = TaskSuite.parse(JSON.parse(await readFile('data/tasks/suite.json', 'utf8')));
    const training = suite.tasks.filter((t) => !t.heldOut);
    const lines = await readLabelledExamples(CALIBRATION_FILE, training.map((t) => t.name), 'the-base');
    for (const t of suite.tasks) {
      const valid = (await readFile(join(t.heldOut ? 'data/heldout' : 'data/tasks', t.name, 'valid.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { input: string }).input);
      const mine = lines.filter((l) => valid.includes(l.input));
      expect(mine.length, t.name).toBeGreaterThanOrEqual(valid.length);
      const want = (t.heldOut ? training.filter((x) => x.family === t.relatedFamily).map((x) => x.name) : [t.name]).sort().join();
      expect(mine.filter((l) => [...l.labels].sort().join() === want).map((l) => l.input), t.name).toEqual(valid);
    }
  });

  it('labels a held-out task\'s valid split with its related family\'s adapters, and skips one with no valid split', async () => {
    const root = await tempDir();
    const { tasksDir } = await writeMicroData(root);
    await writeFile(join(root, 'data', 'heldout', 'first-letter-qa', 'valid.jsonl'), '{"input": "Q: first of kiwi? A:", "output": "k"}\n');
    await mkdir(join(root, 'data', 'heldout', 'unlisted'), { recursive: true });
    await writeFile(join(root, 'data', 'heldout', 'unlisted', 'valid.jsonl'), '{"input": "who?", "output": "x"}\n');
    const got = await calibrationExamples(tasksDir, join(root, 'data', 'heldout'));
    expect(got.filter((e) => Array.isArray(e.adapter))).toEqual([{ input: 'Q: first of kiwi? A:', adapter: ['first-letter', 'first-letter-call'] }]);
    expect(got.filter((e) => e.adapter === 'pick-longer').map((e) => e.input)).toEqual(MICRO_TASKS['pick-longer']!.rows.slice(14, 17).map((r) => r.input));
  });
});
