import { addBurst, addImpact, bandpass, filter, highpass, noise, sin2pi, wander } from './dsp.js';
import type { Rng } from '../../random/index.js';

/**
 * Fault sounds shared by several machine types, modelled on the failure modes the DCASE 2020
 * data were recorded with (MIMII: imbalance, bearing damage, leakage, contamination, rail damage,
 * no grease; ToyADMOS: bent shaft, gear and tire damage, belt damage). Every helper adds to
 * `out` at an absolute amplitude `amp` chosen by the caller from the severity.
 */

/**
 * Rolling-element bearing defect: an impulse train at a defect frequency (a non-integer multiple
 * of the shaft rate, like BPFO/BPFI) exciting a high structural resonance, modulated at the
 * shaft rate as the load zone turns, plus a faint steady ring of that resonance.
 */
export function addBearingFault(out: Float32Array, rng: Rng, sr: number, shaftHz: number, amp: number): void {
  const ratio = rng.uniform(2.8, 5.7);
  const rate = shaftHz * ratio;
  const fRes = rng.uniform(2200, 6500);
  const decay = rng.uniform(0.0015, 0.004);
  const modes = [
    { f: fRes, decay, gain: 1 },
    { f: fRes * rng.uniform(1.3, 1.6), decay: decay * 0.6, gain: 0.5 },
  ];
  const period = sr / rate;
  const phase0 = rng.next();
  for (let t = rng.uniform(0, period); t < out.length; t += period * (1 + 0.01 * rng.normal())) {
    const load = 0.55 + 0.45 * sin2pi((shaftHz * t) / sr + phase0);
    addImpact(out, t, amp * load * rng.uniform(0.7, 1.3), modes, sr);
  }
  const ring = filter(noise(out.length, rng), bandpass(fRes, 30, sr));
  for (let i = 0; i < out.length; i++) out[i] += 0.25 * amp * (ring[i] as number);
}

/** Rubbing: short band-limited noise bursts, mostly once per revolution, some missing. */
export function addRubbing(out: Float32Array, rng: Rng, sr: number, revHz: number, amp: number, duty = 0.8): void {
  const band = bandpass(rng.uniform(1200, 5000), rng.uniform(1.5, 4), sr);
  const period = sr / revHz;
  const where = rng.next();
  const len = sr * rng.uniform(0.006, 0.03);
  for (let t = period * where; t < out.length; t += period) {
    if (rng.chance(duty))
      addBurst(
        out,
        t + rng.normal() * 0.02 * period,
        len * rng.uniform(0.6, 1.4),
        amp * rng.uniform(0.5, 1.2),
        band,
        rng,
      );
  }
}

/** Leak / hiss: band-limited noise, steady or fluctuating, mostly above 2 kHz (gas or fluid jet). */
export function addHiss(
  out: Float32Array,
  rng: Rng,
  sr: number,
  amp: number,
  envelope: Float32Array | null = null,
): void {
  const x = noise(out.length, rng);
  filter(x, highpass(rng.uniform(1800, 3500), 0.7, sr));
  filter(x, bandpass(rng.uniform(3000, 6500), rng.uniform(0.8, 2), sr));
  const flutter = wander(out.length, sr, rng, rng.uniform(0.05, 0.4), 0.03, 0.8);
  for (let i = 0; i < out.length; i++)
    out[i] += amp * (x[i] as number) * (flutter[i] as number) * (envelope ? (envelope[i] as number) : 1);
}

/** Crackle (cavitation, debris): sparse random impulses on high resonances. */
export function addCrackle(out: Float32Array, rng: Rng, sr: number, ratePerSec: number, amp: number): void {
  const f = rng.uniform(2500, 6000);
  let t = 0;
  for (;;) {
    t += (-Math.log(1 - rng.next()) / ratePerSec) * sr;
    if (t >= out.length) break;
    addImpact(
      out,
      t,
      amp * rng.uniform(0.3, 1.5),
      [{ f: f * rng.uniform(0.8, 1.25), decay: rng.uniform(0.0005, 0.002), gain: 1 }],
      sr,
    );
  }
}

/** Imbalance: the whole machine sound amplitude-modulated at the shaft rate, depth `depth`. */
export function modulate(out: Float32Array, sr: number, hz: number, depth: number, phase = 0): void {
  for (let i = 0; i < out.length; i++) out[i] *= 1 + depth * sin2pi((hz * i) / sr + phase);
}
