/**
 * The shipped default library is exactly what `npm run library` (quiver build on quiver.config.json)
 * recorded: library/build.json was written from the committed config, it lists every file under
 * library/ with its sha256 and every one matches; the compiled manifest passes its own checksum and
 * names the sha256 of the embedder beside it; library.json's adapters are folders the record lists.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeManifest } from '../shared/manifest/manifest-codec.js';
import { sha256File } from '../build/io/file-hash.js';
import { readLibraryIndex } from '../build/io/library-index.js';
import { BuildConfig } from '../build/pipeline/build-config.js';
import { BUILD_RECORD_FILE, BuildRecord } from '../build/pipeline/build-record.js';
import { listFiles, relativeKey } from '../build/pipeline/tree-checksums.js';

const LIBRARY = 'library';

describe('the shipped library', () => {
  it('was built from quiver.config.json, and build.json records every file in it', async () => {
    const record = BuildRecord.parse(JSON.parse(await readFile(join(LIBRARY, BUILD_RECORD_FILE), 'utf8')));
    expect(record.config).toEqual(BuildConfig.parse(JSON.parse(await readFile('quiver.config.json', 'utf8'))));
    expect(Object.keys(record.stages)).toEqual(['pretrain', 'train', 'compile', 'eval']);
    const recorded: Record<string, string> = Object.assign({}, ...Object.values(record.stages).map((s) => s.files));
    const onDisk = (await listFiles(LIBRARY)).map((f) => relativeKey(LIBRARY, f)).filter((f) => f !== BUILD_RECORD_FILE);
    expect(onDisk).toEqual(Object.keys(recorded).sort());
    const wrong: string[] = [];
    for (const [file, sum] of Object.entries(recorded)) if ((await sha256File(join(LIBRARY, file))) !== sum) wrong.push(file);
    expect(wrong).toEqual([]);
  });

  it('has a compiled manifest that passes its checksum and names its embedder by sha256', async () => {
    const manifest = await decodeManifest(new Uint8Array(await readFile(join(LIBRARY, 'compiled', 'manifest.safetensors'))));
    const embedder = manifest.metadata.embedder!;
    expect(await sha256File(join(LIBRARY, 'compiled', embedder.path))).toBe(embedder.sha256);
    const index = await readLibraryIndex(LIBRARY);
    expect(manifest.metadata.adapters.map((a) => a.id)).toEqual(index.tasks.map((t) => t.name));
  });

  it("lists in library.json only adapter folders whose files build.json records", async () => {
    const record = BuildRecord.parse(JSON.parse(await readFile(join(LIBRARY, BUILD_RECORD_FILE), 'utf8')));
    const index = await readLibraryIndex(LIBRARY);
    for (const adapter of [...index.tasks.map((t) => t.adapter), ...index.clusters.map((c) => c.adapter)]) {
      expect(record.stages.train!.files[`${adapter}/adapter_model.safetensors`], adapter).toMatch(/^[0-9a-f]{64}$/);
      expect(record.stages.train!.files[`${adapter}/adapter_config.json`], adapter).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
