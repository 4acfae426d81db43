import { addHarmonics, addImpact, db, filter, lowpass, mixAtRms, phaseTrack, pinkNoise, rms, wander } from './dsp.js';
import type { Rng } from '../../random/index.js';

/**
 * Factory background: pink noise with a spectral tilt, mains hum and a distant machine's
 * wobbling tone, plus occasional distant knocks. The character of the place (tilt, hum, the
 * other machine) belongs to the recording site, so it is drawn once per machine type from `siteRng`; level details and the knocks vary
 * per clip. The knocks matter: without them "any click = anomaly" would be a shortcut no real
 * recording allows. Returned at unit RMS.
 */
export function background(siteRng: Rng, rng: Rng, n: number, sr: number): Float32Array {
  const cutoff = siteRng.uniform(1200, 5000);
  const mains = siteRng.chance(0.5) ? 50 : 60;
  const humAmps = [siteRng.uniform(0, 1), siteRng.uniform(0, 1), siteRng.uniform(0, 0.5)];
  const humLevel = siteRng.uniform(-30, -14);
  const otherHz = siteRng.uniform(80, 600);
  const otherLevel = siteRng.chance(0.6) ? siteRng.uniform(-24, -12) : -Infinity;
  const knockRate = siteRng.uniform(0.05, 0.6);

  const out = pinkNoise(n, rng);
  filter(out, lowpass(cutoff * (1 + 0.05 * rng.normal()), 0.7, sr));
  const level = wander(n, sr, rng, 0.1, 0.1, 0.9);
  for (let i = 0; i < n; i++) out[i] *= level[i] as number;
  const base = rms(out);

  const hum = new Float32Array(n);
  addHarmonics(hum, phaseTrack(mains, null, n, sr, rng.next()), humAmps, { f0: mains, sr });
  mixAtRms(out, hum, db(humLevel + rng.normal()) * base);

  if (otherLevel > -Infinity) {
    const other = new Float32Array(n);
    addHarmonics(other, phaseTrack(otherHz, wander(n, sr, rng, 0.01, 0.2, 0.95), n, sr, rng.next()), [1, 0.4], {
      f0: otherHz,
      sr,
    });
    mixAtRms(out, other, db(otherLevel + 2 * rng.normal()) * base);
  }

  const knocks = Math.floor(rng.uniform(0, 2 * knockRate) * (n / sr) + rng.next());
  for (let k = 0; k < knocks; k++) {
    const modes = [
      { f: rng.uniform(150, 3000), decay: rng.uniform(0.005, 0.05), gain: 1 },
      { f: rng.uniform(1000, 6000), decay: rng.uniform(0.002, 0.01), gain: rng.uniform(0, 0.5) },
    ];
    addImpact(out, rng.uniform(0, n), base * db(rng.uniform(-6, 10)), modes, sr);
  }
  const r = rms(out);
  for (let i = 0; i < n; i++) out[i] /= r;
  return out;
}
