import { MULBERRY32_STEP, mulberry32Mix, type Rng } from '../../random/index.js';

/**
 * Cheap signal-building blocks for the synthetic machines. Everything works in place on
 * Float32Array buffers and costs a few operations per sample, so a 10 s clip renders in
 * milliseconds. Phases are in cycles (0..1).
 */

const TABLE_BITS = 12;
const TABLE_SIZE = 1 << TABLE_BITS;
const SIN = new Float32Array(TABLE_SIZE + 1);
for (let i = 0; i <= TABLE_SIZE; i++) SIN[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);

/** sin(2 pi x) by table lookup with linear interpolation (error < 1e-6). */
export function sin2pi(x: number): number {
  const f = (x - Math.floor(x)) * TABLE_SIZE;
  const i = f | 0;
  const a = SIN[i] as number;
  return a + ((SIN[i + 1] as number) - a) * (f - i);
}

/**
 * A smooth random curve around 1: control points every `step` seconds, log-normal with
 * `sigma` and an AR(1) memory `keep` (0 = independent points, near 1 = slow drift), linearly
 * interpolated. Used for speed drift and level fluctuations.
 */
export function wander(n: number, sr: number, rng: Rng, sigma: number, step = 0.05, keep = 0.95): Float32Array {
  const out = new Float32Array(n);
  const hop = Math.max(1, Math.round(step * sr));
  const innov = sigma * Math.sqrt(1 - keep * keep);
  // exp() at the control points only; interpolating in the linear domain is indistinguishable
  // for the small steps used here and keeps this cheap.
  let x = sigma * rng.normal();
  let prev = Math.exp(x);
  for (let start = 0; start < n; start += hop) {
    x = keep * x + innov * rng.normal();
    const next = Math.exp(x);
    const end = Math.min(n, start + hop);
    const slope = (next - prev) / hop;
    for (let i = start; i < end; i++) out[i] = prev + slope * (i - start);
    prev = next;
  }
  return out;
}

/** Running phase (cycles) of an oscillator whose frequency is `f0 * track[i]` Hz. */
export function phaseTrack(f0: number, track: Float32Array | null, n: number, sr: number, start = 0): Float64Array {
  const out = new Float64Array(n);
  let p = start;
  const base = f0 / sr;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    p += track ? base * (track[i] as number) : base;
    if (p > 1e6) p -= Math.floor(p);
  }
  return out;
}

/**
 * out += sum_k amps[k] * env * sin(2 pi (k+1) mult phase + phi_k), skipping partials above
 * Nyquist. The partials come from the Chebyshev recurrence on one sin/cos pair per sample
 * (sin((k+1)x) = 2 cos x sin kx - sin((k-1)x)), exact and a few flops per partial.
 */
export function addHarmonics(
  out: Float32Array,
  phase: Float64Array,
  amps: ArrayLike<number>,
  opts: { mult?: number; f0?: number; sr?: number; phases?: ArrayLike<number>; env?: Float32Array } = {},
): void {
  const mult = opts.mult ?? 1;
  let count = amps.length;
  if (opts.f0 !== undefined && opts.sr !== undefined)
    count = Math.min(count, Math.floor((0.45 * opts.sr) / (opts.f0 * mult)));
  if (count <= 0) return;
  const a = new Float64Array(count);
  const cs = new Float64Array(count); // amp * cos(phi_k): weight of sin(kx)
  const sn = new Float64Array(count); // amp * sin(phi_k): weight of cos(kx)
  for (let k = 0; k < count; k++) {
    a[k] = amps[k] as number;
    const ph = opts.phases ? 2 * Math.PI * (opts.phases[k] as number) : 0;
    cs[k] = (a[k] as number) * Math.cos(ph);
    sn[k] = (a[k] as number) * Math.sin(ph);
  }
  const env = opts.env;
  for (let i = 0; i < out.length; i++) {
    // sin and cos of 2 pi x from the table, inlined (hot loop).
    const x = mult * (phase[i] as number);
    const f = (x - Math.floor(x)) * TABLE_SIZE;
    const j = f | 0;
    const fr = f - j;
    const s1 = (SIN[j] as number) + ((SIN[j + 1] as number) - (SIN[j] as number)) * fr;
    const jc = (j + TABLE_SIZE / 4) & (TABLE_SIZE - 1);
    const c1 = (SIN[jc] as number) + ((SIN[jc + 1] as number) - (SIN[jc] as number)) * fr;
    const twoC = 2 * c1;
    let sPrev = 0,
      cPrev = 1,
      sK = s1,
      cK = c1;
    let acc = 0;
    for (let k = 0; k < count; k++) {
      acc += (cs[k] as number) * sK + (sn[k] as number) * cK;
      const sNext = twoC * sK - sPrev;
      const cNext = twoC * cK - cPrev;
      sPrev = sK;
      cPrev = cK;
      sK = sNext;
      cK = cNext;
    }
    out[i] += env ? acc * (env[i] as number) : acc;
  }
}

/**
 * White noise with unit variance: each sample is the sum of the two 16-bit halves of one
 * mulberry32 draw (a triangular distribution; every use filters it, which makes it Gaussian).
 * The stream is stepped here rather than through a closure because this is the hottest loop of
 * the synthetic set (the state is kept as a signed int: the same bits as mulberry32's).
 */
export function noise(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  let a = Math.floor(rng.next() * 4294967296) >>> 0;
  const scale = Math.sqrt(6) / 65536;
  for (let i = 0; i < n; i++) {
    a = (a + MULBERRY32_STEP) | 0;
    const t = mulberry32Mix(a);
    out[i] = ((t & 0xffff) + (t >>> 16) - 65535) * scale;
  }
  return out;
}

/** Pink-ish noise: three one-pole low-passes of white noise (about -3 dB/octave, 20 Hz-8 kHz). */
export function pinkNoise(n: number, rng: Rng): Float32Array {
  const w = noise(n, rng);
  let b0 = 0,
    b1 = 0,
    b2 = 0;
  for (let i = 0; i < n; i++) {
    const x = w[i] as number;
    b0 = 0.99765 * b0 + x * 0.099046;
    b1 = 0.963 * b1 + x * 0.2965164;
    b2 = 0.57 * b2 + x * 1.0526913;
    w[i] = (b0 + b1 + b2 + x * 0.1848) * 0.2;
  }
  return w;
}

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** RBJ cookbook band-pass (0 dB peak gain). */
export function bandpass(f: number, q: number, sr: number): Biquad {
  const w = (2 * Math.PI * Math.min(f, 0.45 * sr)) / sr;
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  return { b0: alpha / a0, b1: 0, b2: -alpha / a0, a1: (-2 * Math.cos(w)) / a0, a2: (1 - alpha) / a0 };
}

export function lowpass(f: number, q: number, sr: number): Biquad {
  const w = (2 * Math.PI * Math.min(f, 0.45 * sr)) / sr;
  const alpha = Math.sin(w) / (2 * q);
  const c = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0, a1: (-2 * c) / a0, a2: (1 - alpha) / a0 };
}

export function highpass(f: number, q: number, sr: number): Biquad {
  const w = (2 * Math.PI * Math.min(f, 0.45 * sr)) / sr;
  const alpha = Math.sin(w) / (2 * q);
  const c = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0, a1: (-2 * c) / a0, a2: (1 - alpha) / a0 };
}

/** Filters `x` in place (direct form II transposed). */
export function filter(x: Float32Array, f: Biquad): Float32Array {
  let z1 = 0,
    z2 = 0;
  const { b0, b1, b2, a1, a2 } = f;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    const y = b0 * v + z1;
    z1 = b1 * v - a1 * y + z2;
    z2 = b2 * v - a2 * y;
    x[i] = y;
  }
  return x;
}

/** A new buffer: `x` through band-pass resonators in parallel, each with its own gain. */
export function resonate(
  x: Float32Array,
  modes: ReadonlyArray<{ f: number; q: number; gain: number }>,
  sr: number,
): Float32Array {
  const out = new Float32Array(x.length);
  for (const m of modes) {
    const y = filter(x.slice(), bandpass(m.f, m.q, sr));
    for (let i = 0; i < out.length; i++) out[i] += m.gain * (y[i] as number);
  }
  return out;
}

export interface Mode {
  f: number;
  decay: number;
  gain: number;
}

/**
 * Adds an impact at sample `t0`: a sum of exponentially damped modes (struck-structure model),
 * `decay` = time constant in seconds. Rendered by a two-pole recursion until inaudible.
 */
export function addImpact(out: Float32Array, t0: number, amp: number, modes: ReadonlyArray<Mode>, sr: number): void {
  const start = Math.max(0, Math.round(t0));
  for (const m of modes) {
    if (m.f >= 0.47 * sr) continue;
    const r = Math.exp(-1 / (m.decay * sr));
    const w = (2 * Math.PI * m.f) / sr;
    const c = 2 * r * Math.cos(w);
    const r2 = r * r;
    const len = Math.min(out.length - start, Math.ceil(m.decay * sr * 7));
    // Impulse response r^i sin((i+1) w) / sin(w): feeding g sin(w) gives peak amplitude ~ g.
    let y1 = 0,
      y2 = 0;
    const g = amp * m.gain;
    for (let i = 0; i < len; i++) {
      const y = c * y1 - r2 * y2 + (i === 0 ? g * Math.sin(w) : 0);
      out[start + i] += y;
      y2 = y1;
      y1 = y;
    }
  }
}

/** Adds a short burst of band-limited noise (rubbing, hiss puffs) with a Hann envelope. */
export function addBurst(out: Float32Array, t0: number, len: number, amp: number, band: Biquad, rng: Rng): void {
  const start = Math.max(0, Math.round(t0));
  const n = Math.min(out.length - start, Math.round(len));
  if (n <= 2) return;
  const b = filter(noise(n, rng), band);
  for (let i = 0; i < n; i++)
    out[start + i] += amp * (b[i] as number) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
}

export function rms(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** out += g * x */
export function mixInto(out: Float32Array, x: ArrayLike<number>, g: number): void {
  for (let i = 0; i < out.length; i++) out[i] += g * (x[i] as number);
}

/** out += x scaled to RMS g (a silent x adds nothing). */
export function mixAtRms(out: Float32Array, x: ArrayLike<number>, g: number): void {
  mixInto(out, x, g / Math.max(rms(x), 1e-9));
}

/** Decibels to an amplitude ratio. */
export function db(v: number): number {
  return 10 ** (v / 20);
}

/**
 * A clip: machine sound and background at their gains, turned down if a loud fault would clip
 * (a real recorder would distort; we keep the waveform).
 */
export function mixClip(sound: Float32Array, gMachine: number, bg: Float32Array, gBg: number): Float32Array {
  const out = new Float32Array(sound.length);
  let peak = 0;
  for (let i = 0; i < out.length; i++) {
    const v = gMachine * (sound[i] as number) + gBg * (bg[i] as number);
    out[i] = v;
    peak = Math.max(peak, Math.abs(v));
  }
  if (peak > 0.98) for (let i = 0; i < out.length; i++) out[i] = ((out[i] as number) * 0.98) / peak;
  return out;
}
