import { UserError } from '../util/errors.js';
import { RealFft } from './fft.js';
import { applyFilterbank, melFilterbank, type MelFilterbank, type MelNorm, type MelScale } from './mel.js';

/**
 * The log-Mel spectrogram F_LM of paper §2.1.2: a centred STFT with a periodic Hann window
 * (n_fft 2048, hop 512), the power spectrum |STFT|², 128 triangular mel filters on the HTK scale
 * over 0..8 kHz, then 10·log10(max(·, 1e-10)). A 10 s clip at 16 kHz gives 128 × 313.
 *
 * Why 10·log10 and not the natural log: both reference codes (STgram-MFN, TASTgram) take
 * 10·log10, i.e. decibels; the paper only says "log". The two differ by the constant factor
 * 10/ln(10) ≈ 4.34, which matters because the later branches (FGA fusion, §2.2) mix F_LM with
 * learned maps at fixed weights, and the floor 1e-10 (= -100 dB) is STgram-MFN's. See
 * docs/frontend.md.
 */

/** Front-end options: mirrors LogMelConfig (src/config/schema.ts) plus the sample rate. */
export interface LogMelOptions {
  sampleRate: number;
  /** FFT size = Hann window length (a power of two here). */
  nFft: number;
  hop: number;
  nMels: number;
  /** Mel formula: 'htk' (the paper's 2595·log10(1 + f/700)) or 'slaney' (TASTgram). */
  scale: MelScale;
  /** Filter normalisation: 'none' (torchaudio default) or 'slaney' (area normalisation). */
  norm: MelNorm;
  /** Centre padding of nFft/2 samples at each end: 'reflect' (STgram-MFN) or 'constant' zeros (TASTgram). */
  pad: 'reflect' | 'constant';
  fMin: number;
  /** Upper edge of the filterbank in Hz; null = Nyquist (sampleRate / 2). */
  fMax: number | null;
}

export const DEFAULT_LOGMEL_OPTIONS: Readonly<LogMelOptions> = Object.freeze({
  sampleRate: 16000,
  nFft: 2048,
  hop: 512,
  nMels: 128,
  scale: 'htk',
  norm: 'none',
  pad: 'reflect',
  fMin: 0,
  fMax: null,
});

/** Power floor before the log: STgram-MFN's clamp, -100 dB. */
export const POWER_FLOOR = 1e-10;

export interface LogMelResult {
  /** [nMels, frames] */
  shape: [number, number];
  /** Row-major: data[m * frames + t] is mel bin m at frame t. */
  data: Float32Array;
}

export interface LogMelBatchResult {
  /** [batch, nMels, frames] */
  shape: [number, number, number];
  data: Float32Array;
}

/** Number of STFT frames of a centred STFT: 1 + floor(len / hop) (160,000 / 512 -> 313). */
export function frameCount(length: number, hop: number): number {
  return 1 + Math.floor(length / hop);
}

/**
 * Everything that depends only on the options (window, FFT tables, filterbank), built once and
 * reused for every clip; plans are cached by their options.
 */
export class LogMelPlan {
  readonly options: Readonly<LogMelOptions>;
  readonly filterbank: MelFilterbank;
  readonly window: Float64Array;
  private readonly fft: RealFft;
  private readonly frame: Float64Array;
  private readonly power: Float64Array;
  private readonly mel: Float64Array;

  constructor(options: Readonly<LogMelOptions>) {
    this.options = options;
    const { nFft } = options;
    this.fft = new RealFft(nFft);
    // Periodic Hann (torch.hann_window's default): w[n] = 0.5 - 0.5·cos(2πn/N), n < N.
    this.window = new Float64Array(nFft);
    for (let n = 0; n < nFft; n++) this.window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft);
    this.filterbank = melFilterbank({
      sampleRate: options.sampleRate,
      nFft,
      nMels: options.nMels,
      fMin: options.fMin,
      fMax: options.fMax ?? options.sampleRate / 2,
      scale: options.scale,
      norm: options.norm,
    });
    this.frame = new Float64Array(nFft);
    this.power = new Float64Array(this.fft.bins);
    this.mel = new Float64Array(options.nMels);
  }

  frames(length: number): number {
    return frameCount(length, this.options.hop);
  }

  /**
   * Windowed frame t of the centred signal (frame t covers samples t·hop - nFft/2 ..
   * t·hop + nFft/2 - 1 of the original, padded beyond its ends by `pad`), into `out`.
   */
  windowedFrame(wave: ArrayLike<number>, t: number, out: Float64Array): void {
    const { nFft, hop, pad } = this.options;
    const len = wave.length;
    const offset = t * hop - (nFft >> 1);
    const w = this.window;
    if (offset >= 0 && offset + nFft <= len) {
      for (let n = 0; n < nFft; n++) out[n] = w[n]! * wave[offset + n]!;
      return;
    }
    for (let n = 0; n < nFft; n++) {
      const i = offset + n;
      let v: number;
      if (i >= 0 && i < len) v = wave[i]!;
      else if (pad === 'constant' || len === 1) v = pad === 'constant' ? 0 : wave[0]!;
      else v = wave[reflectIndex(i, len)]!;
      out[n] = w[n]! * v;
    }
  }

  /** |STFT|² of frame t, bins 0..nFft/2, into `out`. */
  powerFrame(wave: ArrayLike<number>, t: number, out: Float64Array): void {
    this.windowedFrame(wave, t, this.frame);
    this.fft.power(this.frame, out);
  }

  /** Log-Mel of `wave` written into `out` at `offset` (row-major [m][t]); returns the frame count. */
  computeInto(wave: ArrayLike<number>, out: Float32Array, offset = 0): number {
    const T = this.frames(wave.length);
    const { nMels } = this.options;
    for (let t = 0; t < T; t++) {
      this.powerFrame(wave, t, this.power);
      applyFilterbank(this.filterbank, this.power, this.mel);
      for (let m = 0; m < nMels; m++) {
        const p = this.mel[m]!;
        out[offset + m * T + t] = 10 * Math.log10(p > POWER_FLOOR ? p : POWER_FLOOR);
      }
    }
    return T;
  }
}

/** Index into a signal of length len (>= 2) for position i outside it, mirrored without repeating the edge sample (numpy/torch 'reflect'). */
function reflectIndex(i: number, len: number): number {
  const period = 2 * (len - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < len ? j : period - j;
}

/**
 * Fills defaults and checks every option; a bad value is a UserError naming the option. With a
 * `source` (e.g. the experiment file) the message names the experiment key instead.
 */
export function resolveLogMelOptions(opts: Partial<LogMelOptions> = {}, source?: string): LogMelOptions {
  const o: LogMelOptions = { ...DEFAULT_LOGMEL_OPTIONS, ...stripUndefined(opts) };
  const bad = (key: keyof LogMelOptions, expected: string): never => {
    const name =
      source === undefined
        ? `log-Mel option ${key}`
        : `${source}: ${key === 'sampleRate' ? 'data.sampleRate' : `features.logmel.${key}`}`;
    throw new UserError(`${name} = ${JSON.stringify(o[key])}: expected ${expected}`);
  };
  if (!Number.isInteger(o.sampleRate) || o.sampleRate <= 0) bad('sampleRate', 'a positive whole number of Hz');
  if (!Number.isInteger(o.nFft) || o.nFft < 2 || (o.nFft & (o.nFft - 1)) !== 0)
    bad('nFft', 'a power of two (e.g. 1024 or 2048)');
  if (!Number.isInteger(o.hop) || o.hop <= 0) bad('hop', 'a positive whole number of samples');
  if (!Number.isInteger(o.nMels) || o.nMels <= 0) bad('nMels', 'a positive whole number');
  if (o.scale !== 'htk' && o.scale !== 'slaney') bad('scale', "'htk' or 'slaney'");
  if (o.norm !== 'none' && o.norm !== 'slaney') bad('norm', "'none' or 'slaney'");
  if (o.pad !== 'reflect' && o.pad !== 'constant') bad('pad', "'reflect' or 'constant'");
  const nyquist = o.sampleRate / 2;
  if (!(o.fMin >= 0 && o.fMin < nyquist)) bad('fMin', `a frequency in [0, ${nyquist}) Hz`);
  if (o.fMax !== null && !(o.fMax > o.fMin && o.fMax <= nyquist))
    bad('fMax', `null or a frequency in (fMin, ${nyquist}] Hz`);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const plans = new Map<string, LogMelPlan>();

/** The cached plan for these options (at most a handful of option sets exist in a process). */
export function logMelPlan(opts: Partial<LogMelOptions> = {}): LogMelPlan {
  const o = resolveLogMelOptions(opts);
  const key = JSON.stringify(o);
  let plan = plans.get(key);
  if (!plan) {
    if (plans.size > 16) plans.clear();
    plan = new LogMelPlan(Object.freeze(o));
    plans.set(key, plan);
  }
  return plan;
}

/** Log-Mel spectrogram of one clip, [nMels, frames] row-major (paper §2.1.2). */
export function logMel(wave: Float32Array, opts?: Partial<LogMelOptions>): LogMelResult {
  if (wave.length === 0) throw new UserError('log-Mel of an empty signal: the clip holds no samples');
  const plan = logMelPlan(opts);
  const T = plan.frames(wave.length);
  const data = new Float32Array(plan.options.nMels * T);
  plan.computeInto(wave, data);
  return { shape: [plan.options.nMels, T], data };
}

/** Log-Mel of equally long clips as one [batch, nMels, frames] array. */
export function logMelBatch(waves: readonly Float32Array[], opts?: Partial<LogMelOptions>): LogMelBatchResult {
  const plan = logMelPlan(opts);
  const len = waves[0]?.length ?? 0;
  waves.forEach((w, i) => {
    if (w.length !== len)
      throw new RangeError(
        `logMelBatch: clip ${i} has ${w.length} samples, clip 0 has ${len}; cut or pad clips to one length first`,
      );
  });
  if (len === 0 && waves.length > 0) throw new UserError('log-Mel of an empty signal: the clips hold no samples');
  const T = waves.length === 0 ? 0 : plan.frames(len);
  const per = plan.options.nMels * T;
  const data = new Float32Array(waves.length * per);
  waves.forEach((w, i) => plan.computeInto(w, data, i * per));
  return { shape: [waves.length, plan.options.nMels, T], data };
}
