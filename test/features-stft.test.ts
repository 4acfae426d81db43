import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RealFft } from '../src/features/fft.js';
import { LogMelPlan, logMel, resolveLogMelOptions } from '../src/features/logmel.js';

/** Samples in [-1, 1], NaN and infinities excluded on purpose (audio after readWav). */
const sample = fc.double({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true });

function naiveDft(x: ArrayLike<number>): { re: number[]; im: number[] } {
  const N = x.length;
  const re: number[] = [];
  const im: number[] = [];
  for (let k = 0; k <= N / 2; k++) {
    let r = 0,
      i = 0;
    for (let n = 0; n < N; n++) {
      const a = (-2 * Math.PI * k * n) / N;
      r += x[n]! * Math.cos(a);
      i += x[n]! * Math.sin(a);
    }
    re.push(r);
    im.push(i);
  }
  return { re, im };
}

test('the real FFT agrees with a naive DFT on random short inputs', () => {
  const input = fc
    .integer({ min: 1, max: 7 })
    .chain((bits) => fc.array(sample, { minLength: 1 << bits, maxLength: 1 << bits }));
  fc.assert(
    fc.property(input, (x) => {
      const fft = new RealFft(x.length);
      const re = new Float64Array(fft.bins);
      const im = new Float64Array(fft.bins);
      fft.forward(x, re, im);
      const ref = naiveDft(x);
      const power = new Float64Array(fft.bins);
      fft.power(x, power);
      for (let k = 0; k < fft.bins; k++) {
        assert.ok(Math.abs(re[k]! - ref.re[k]!) < 1e-9 * x.length, `re[${k}]`);
        assert.ok(Math.abs(im[k]! - ref.im[k]!) < 1e-9 * x.length, `im[${k}]`);
        assert.ok(
          Math.abs(power[k]! - (ref.re[k]! ** 2 + ref.im[k]! ** 2)) < 1e-8 * x.length * x.length,
          `power[${k}]`,
        );
      }
    }),
    { numRuns: 200 },
  );
});

test('FFT sizes that are not powers of two are refused', () => {
  assert.throws(() => new RealFft(1000), RangeError);
  assert.throws(() => new RealFft(1), RangeError);
});

test('Parseval: one-sided STFT energy equals N times the windowed frame energy', () => {
  const args = fc.record({
    bits: fc.integer({ min: 5, max: 11 }),
    hopDiv: fc.constantFrom(1, 2, 4),
    signal: fc.array(sample, { minLength: 4096, maxLength: 4096 }),
  });
  fc.assert(
    fc.property(args, ({ bits, hopDiv, signal }) => {
      const nFft = 1 << bits;
      const plan = new LogMelPlan(resolveLogMelOptions({ nFft, hop: nFft / hopDiv, nMels: 8 }));
      const x = Float32Array.from(signal);
      const power = new Float64Array(nFft / 2 + 1);
      const T = plan.frames(x.length);
      let checked = 0;
      for (let t = 0; t < T; t++) {
        const offset = t * plan.options.hop - nFft / 2;
        if (offset < 0 || offset + nFft > x.length) continue; // frames touching the padding
        // The windowed frame, computed here from the periodic Hann definition.
        let timeEnergy = 0;
        for (let n = 0; n < nFft; n++) {
          const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft);
          timeEnergy += (w * x[offset + n]!) ** 2;
        }
        plan.powerFrame(x, t, power);
        let freqEnergy = 0;
        for (let k = 0; k <= nFft / 2; k++) freqEnergy += (k === 0 || k === nFft / 2 ? 1 : 2) * power[k]!;
        assert.ok(
          Math.abs(freqEnergy - nFft * timeEnergy) <= 1e-9 * Math.max(1, nFft * timeEnergy),
          `frame ${t}: ${freqEnergy} vs ${nFft * timeEnergy}`,
        );
        checked++;
      }
      assert.ok(checked > 0);
    }),
    { numRuns: 40 },
  );
});

test('a pure tone lands in the mel bin whose centre is nearest its frequency', () => {
  const args = fc.record({
    freq: fc.double({ min: 200, max: 7600, noNaN: true }),
    scale: fc.constantFrom('htk' as const, 'slaney' as const),
    norm: fc.constantFrom('none' as const, 'slaney' as const),
    phase: fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
  });
  fc.assert(
    fc.property(args, ({ freq, scale, norm, phase }) => {
      const opts = { scale, norm };
      const plan = new LogMelPlan(resolveLogMelOptions(opts));
      const sr = plan.options.sampleRate;
      const x = new Float32Array(8192);
      for (let n = 0; n < x.length; n++) x[n] = 0.5 * Math.sin((2 * Math.PI * freq * n) / sr + phase);
      const { shape, data } = logMel(x, opts);
      const t = Math.floor(shape[1] / 2);
      let best = 0;
      for (let m = 1; m < shape[0]; m++) if (data[m * shape[1] + t]! > data[best * shape[1] + t]!) best = m;
      const centers = plan.filterbank.centers;
      const nearest = Math.min(...Array.from(centers, (c) => Math.abs(c - freq)));
      // A tone midway between two centres may go either way (window leakage, filter gains): allow
      // the chosen centre to be farther than the nearest by at most one FFT bin.
      const binHz = sr / plan.options.nFft;
      assert.ok(
        Math.abs(centers[best]! - freq) <= nearest + binHz,
        `tone ${freq} Hz -> bin ${best} (centre ${centers[best]} Hz), nearest centre is ${nearest} Hz away`,
      );
    }),
    { numRuns: 60 },
  );
});

test('the power spectrum scales with amplitude squared: log-Mel shifts by 20·log10(a) dB', () => {
  const args = fc.record({
    a: fc.double({ min: 0.01, max: 10, noNaN: true }),
    signal: fc.array(sample, { minLength: 3000, maxLength: 3000 }),
    pad: fc.constantFrom('reflect' as const, 'constant' as const),
  });
  fc.assert(
    fc.property(args, ({ a, signal, pad }) => {
      const opts = { nFft: 512, hop: 256, nMels: 40, pad };
      const x = Float64Array.from(signal);
      const plan = new LogMelPlan(resolveLogMelOptions(opts));
      const p1 = new Float64Array(257);
      const p2 = new Float64Array(257);
      const scaled = x.map((v) => a * v);
      for (let t = 0; t < plan.frames(x.length); t++) {
        plan.powerFrame(x, t, p1);
        plan.powerFrame(scaled, t, p2);
        for (let k = 0; k < p1.length; k++)
          assert.ok(Math.abs(p2[k]! - a * a * p1[k]!) <= 1e-9 * (a * a * p1[k]! + 1e-12));
      }
      const base = logMel(Float32Array.from(x), opts);
      const louder = logMel(Float32Array.from(scaled), opts);
      const shift = 20 * Math.log10(a);
      const max = Math.max(...base.data);
      for (let i = 0; i < base.data.length; i++) {
        // Bins near the -100 dB power floor (in either clip) do not scale.
        if (base.data[i]! < max - 80 || Math.min(base.data[i]!, base.data[i]! + shift) < -90) continue;
        // Float32 input rounding and output storage: far below 1e-3 dB.
        assert.ok(Math.abs(louder.data[i]! - base.data[i]! - shift) < 1e-3, `bin ${i}`);
      }
    }),
    { numRuns: 30 },
  );
});
