import { addHarmonics, addImpact, db, filter, lowpass, mixInto, phaseTrack, pinkNoise, rms, wander } from './dsp.js';
import type { Rng } from './prng.js';

/**
 * Factory background, the same kind for normal and anomalous clips: pink noise with a random
 * spectral tilt and slow level changes, mains hum, a distant machine's wobbling tone, and
 * occasional distant knocks. The transients matter: without them "any click = anomaly" would
 * be a shortcut no real recording allows. Returned at unit RMS.
 */
export function background(rng: Rng, n: number, sr: number): Float32Array {
  const out = pinkNoise(n, rng);
  if (rng.chance(0.6)) filter(out, lowpass(rng.uniform(1500, 6000), 0.7, sr));
  const level = wander(n, sr, rng, 0.15, 0.1, 0.9);
  for (let i = 0; i < n; i++) out[i] *= level[i] as number;
  const base = rms(out);

  const mains = rng.chance(0.5) ? 50 : 60;
  const hum = new Float32Array(n);
  addHarmonics(hum, phaseTrack(mains, null, n, sr, rng.next()), [rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, 0.5)], { f0: mains, sr });
  mixInto(out, hum, (db(rng.uniform(-30, -12)) * base) / Math.max(rms(hum), 1e-9));

  if (rng.chance(0.5)) {
    const f = rng.uniform(80, 600);
    const other = new Float32Array(n);
    addHarmonics(other, phaseTrack(f, wander(n, sr, rng, 0.01, 0.2, 0.95), n, sr, rng.next()), [1, rng.uniform(0, 0.5)], { f0: f, sr });
    mixInto(out, other, (db(rng.uniform(-24, -10)) * base) / Math.max(rms(other), 1e-9));
  }

  const knocks = rng.uniform(0, 0.8) * (n / sr);
  for (let k = 0; k < Math.floor(knocks); k++) {
    const modes = [{ f: rng.uniform(150, 3000), decay: rng.uniform(0.005, 0.05), gain: 1 }, { f: rng.uniform(1000, 6000), decay: rng.uniform(0.002, 0.01), gain: rng.uniform(0, 0.5) }];
    addImpact(out, rng.uniform(0, n), base * db(rng.uniform(-6, 10)), modes, sr);
  }
  const r = rms(out);
  for (let i = 0; i < n; i++) out[i] /= r;
  return out;
}
