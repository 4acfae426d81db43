import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { UserError } from '../util/errors.js';

const { WaveFile } = wavefile;

/** The parts of wavefile's parsed 'fmt ' chunk we rely on (its typings say only `object`). */
interface FmtChunk {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  subformat?: number[];
}
interface DataChunk {
  chunkSize: number;
  samples: Uint8Array;
}

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;
/**
 * The size a streaming writer puts in the RIFF and data headers when it cannot seek back to fill
 * them in: ffmpeg writing WAV to a pipe, sox to stdout. Readers such as ffmpeg and libsndfile take
 * the data chunk to run to the end of the file, and so do we.
 */
const UNKNOWN_SIZE = 0xffffffff;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads a mono WAV (16-bit PCM or 32-bit float) as samples in [-1, 1]. DCASE 2020 clips are
 * 16 kHz mono 16-bit (paper §2.4). A clip at another rate, with more channels, another sample
 * format, or cut short is a UserError naming the file: we never resample or down-mix silently.
 */
export function readWav(file: string, expectedSampleRate: number): Float32Array {
  return decodeWav(readWavBytes(file), file, expectedSampleRate);
}

/** A WAV file's bytes; an unreadable file is a UserError naming it. */
export function readWavBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw unreadable(file, e);
  }
}

/** readWavBytes through an asynchronous read. */
export async function readWavBytesAsync(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    throw unreadable(file, e);
  }
}

function unreadable(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  return new UserError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(code ?? e)}`);
}

/** decodeWav's work without the file system; `name` is only used in messages. */
export function decodeWav(bytes: Uint8Array, name: string, expectedSampleRate: number): Float32Array {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes, true);
  } catch (e) {
    throw new UserError(
      `${name} is not a readable WAV file (${e instanceof Error ? e.message : String(e)}); expected a mono 16-bit PCM or 32-bit float WAV`,
    );
  }
  const fmt = wav.fmt as FmtChunk;
  const data = wav.data as DataChunk;
  if (wav.container !== 'RIFF' && wav.container !== 'RIFX') {
    throw new UserError(`${name}: ${wav.container} WAV containers are not supported; expected a plain RIFF WAV`);
  }
  if (!Number.isFinite(fmt.numChannels) || !Number.isFinite(fmt.sampleRate) || !(data.samples instanceof Uint8Array)) {
    throw new UserError(
      `${name} is not a readable WAV file (header cut short); expected a mono 16-bit PCM or 32-bit float WAV`,
    );
  }
  if (fmt.numChannels !== 1) {
    throw new UserError(`${name} has ${fmt.numChannels} channels; expected mono (1 channel)`);
  }
  if (fmt.sampleRate !== expectedSampleRate) {
    throw new UserError(
      `${name} is sampled at ${fmt.sampleRate} Hz; expected ${expectedSampleRate} Hz (exp does not resample)`,
    );
  }
  const format = fmt.audioFormat === EXTENSIBLE && fmt.subformat ? fmt.subformat[0] : fmt.audioFormat;
  const kind =
    format === PCM && fmt.bitsPerSample === 16
      ? 'int16'
      : format === IEEE_FLOAT && fmt.bitsPerSample === 32
        ? 'float32'
        : null;
  if (kind === null) {
    const what =
      format === IEEE_FLOAT
        ? `${fmt.bitsPerSample}-bit float`
        : format === PCM
          ? `${fmt.bitsPerSample}-bit PCM`
          : `format code ${format}`;
    throw new UserError(`${name} holds ${what} samples; expected 16-bit PCM or 32-bit float`);
  }
  const width = kind === 'int16' ? 2 : 4;
  // wavefile copies whatever bytes exist; a data chunk that promises more than the file holds
  // means the file was cut short (an interrupted download or copy), unless the size is the
  // streaming placeholder: then the data is the rest of the file, whole samples of it (a stream
  // cut inside its last sample loses that sample).
  const streamed = data.chunkSize === UNKNOWN_SIZE;
  if (!streamed && (data.samples.length < data.chunkSize || data.samples.length % width !== 0)) {
    throw new UserError(
      `${name} is truncated: its data chunk declares ${data.chunkSize} bytes but the file holds ${data.samples.length}`,
    );
  }
  const n = Math.floor(data.samples.length / width);
  const view = new DataView(data.samples.buffer, data.samples.byteOffset, data.samples.byteLength);
  const littleEndian = wav.container === 'RIFF';
  const out = new Float32Array(n);
  if (kind === 'int16') {
    for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, littleEndian) / 32768;
  } else {
    for (let i = 0; i < n; i++) {
      const v = view.getFloat32(4 * i, littleEndian);
      // Float WAVs may overshoot slightly; keep the documented [-1, 1] range, NaN becomes silence.
      out[i] = v > 1 ? 1 : v < -1 ? -1 : v === v ? v : 0;
    }
  }
  return out;
}

/** Encodes mono samples as a 16-bit PCM WAV (values outside [-1, 1] are clipped). */
export function encodeWav(samples: ArrayLike<number>, sampleRate: number): Uint8Array {
  const n = samples.length;
  // A fresh ArrayBuffer (not Buffer's shared pool) so the sample region is 2-byte aligned.
  const buf = Buffer.from(new ArrayBuffer(44 + 2 * n));
  // A canonical 44-byte header: written by hand because it is fixed and this is the hot path of
  // the synthetic generator; readWav parses it with wavefile and the tests round-trip it.
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(PCM, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(2 * n, 40);
  // Typed-array fast path on little-endian hosts (all common ones); DataView elsewhere.
  const pcm =
    LITTLE_ENDIAN_HOST && buf.byteOffset % 2 === 0 ? new Int16Array(buf.buffer, buf.byteOffset + 44, n) : null;
  const view = new DataView(buf.buffer, buf.byteOffset + 44, 2 * n);
  for (let i = 0; i < n; i++) {
    const v = samples[i] as number;
    const q = Math.round((v > 1 ? 1 : v < -1 ? -1 : v === v ? v : 0) * 32767);
    if (pcm) pcm[i] = q;
    else view.setInt16(2 * i, q, true);
  }
  return buf;
}

/** Writes mono samples as a 16-bit PCM WAV. */
export function writeWav(file: string, samples: ArrayLike<number>, sampleRate: number): void {
  writeFileSync(file, encodeWav(samples, sampleRate));
}

/** Cuts `x` to `n` samples or pads it with zeros (paper §2.4: clips are used at a fixed 10 s). */
export function fitLength(x: Float32Array, n: number): Float32Array {
  if (x.length === n) return x;
  if (x.length > n) return x.subarray(0, n).slice();
  const out = new Float32Array(n);
  out.set(x);
  return out;
}
