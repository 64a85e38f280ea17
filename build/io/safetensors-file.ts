/**
 * Lazy safetensors reading from disk: open reads only the header, then each tensor's byte range
 * is read on demand, so a multi-GB checkpoint can be streamed one tensor at a time.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { QuiverInputError } from '../../shared/errors.js';
import {
  decodeFloat32,
  parseSafetensorsHeader,
  readSafetensors,
  safetensorsHeaderLength,
  type SafetensorsFile,
  type SafetensorsHeader,
  type TensorInfo,
} from '../../shared/safetensors.js';

export interface SafetensorsFileHandle {
  readonly path: string;
  readonly header: SafetensorsHeader;
  /** Tensor names in file order. */
  names(): string[];
  info(name: string): TensorInfo;
  /** Reads the tensor's bytes from disk (a fresh buffer each call). */
  readRaw(name: string): Promise<Uint8Array>;
  /** Reads and decodes an F32/F16/BF16/F64 tensor to float32. */
  readFloat32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

// FileHandle.read takes at most 2 GiB - 1 bytes per call.
const MAX_READ = 1 << 30;

/** Fills `buffer` from `position`; returns how many bytes were read (fewer only at end of file). */
async function readAt(fh: FileHandle, buffer: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const length = Math.min(buffer.length - done, MAX_READ);
    const { bytesRead } = await fh.read(buffer, done, length, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

export async function openSafetensorsFile(path: string): Promise<SafetensorsFileHandle> {
  const fh = await open(path, 'r');
  let header: SafetensorsHeader;
  try {
    const { size } = await fh.stat();
    const lengthBytes = new Uint8Array(8);
    await readAt(fh, lengthBytes, 0);
    const headerLength = safetensorsHeaderLength(lengthBytes, size, path);
    const prefix = new Uint8Array(8 + headerLength);
    if ((await readAt(fh, prefix, 0)) < prefix.length) {
      throw new QuiverInputError('file ended while reading the header (was it changed while open?)', path);
    }
    header = parseSafetensorsHeader(prefix, size, path);
  } catch (err) {
    await fh.close();
    throw err;
  }

  const info = (name: string): TensorInfo => {
    const found = header.tensors.get(name);
    if (found === undefined) {
      throw new QuiverInputError('no tensor with this name in the file', `${path}, tensor ${JSON.stringify(name)}`);
    }
    return found;
  };
  const readRaw = async (name: string): Promise<Uint8Array> => {
    const [begin, end] = info(name).dataOffsets;
    const bytes = new Uint8Array(end - begin);
    if ((await readAt(fh, bytes, header.dataStart + begin)) < bytes.length) {
      throw new QuiverInputError(
        'file ended inside the tensor data (was it truncated after opening?)',
        `${path}, tensor ${JSON.stringify(name)}`,
      );
    }
    return bytes;
  };
  return {
    path,
    header,
    names: () => [...header.tensors.keys()],
    info,
    readRaw,
    readFloat32: async (name) => decodeFloat32(info(name), await readRaw(name), path, name),
    close: () => fh.close(),
  };
}

/** Reads a whole safetensors file into memory; `raw` views share one buffer. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const buf = await readFile(path);
  return readSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
