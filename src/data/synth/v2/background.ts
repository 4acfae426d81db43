import {
  addHarmonics,
  addImpact,
  bandpass,
  db,
  filter,
  highpass,
  lowpass,
  mixAtRms,
  noise,
  phaseTrack,
  pinkNoise,
  rms,
  wander,
} from '../dsp.js';
import type { Rng } from '../../../random/index.js';

/**
 * Factory background, version 2. A site (one per machine type, as each type was recorded in one
 * place) has a noise colour, mains hum and two or three other machines running nearby; each clip
 * hears a different mixture of them at a different level (which machines run, how loud, the
 * noise tilt, a passing vehicle or voices-like band noise, distant knocks), so the background
 * changes in kind and level from clip to clip, as MIMII's mixed-in factory recordings do.
 * Returned at unit RMS.
 */
export function backgroundV2(siteRng: Rng, rng: Rng, n: number, sr: number): Float32Array {
  const cutoff = siteRng.uniform(1500, 5000);
  const mains = siteRng.chance(0.5) ? 50 : 60;
  const humAmps = [siteRng.uniform(0, 1), siteRng.uniform(0, 1), siteRng.uniform(0, 0.5)];
  const humLevel = siteRng.uniform(-30, -16);
  const others = Array.from({ length: siteRng.int(2, 3) }, () => ({
    hz: siteRng.uniform(60, 700),
    level: siteRng.uniform(-22, -8),
    on: siteRng.uniform(0.3, 0.8),
  }));
  const knockRate = siteRng.uniform(0.05, 0.5);

  // Noise colour varies per clip around the site's: a second pole sometimes darkens it.
  const out = pinkNoise(n, rng);
  filter(out, lowpass(cutoff * Math.exp(0.3 * rng.normal()), 0.7, sr));
  if (rng.chance(0.5)) filter(out, lowpass(rng.uniform(400, 2500), 0.7, sr));
  const level = wander(n, sr, rng, 0.15, 0.1, 0.9);
  for (let i = 0; i < n; i++) out[i] *= level[i] as number;
  const base = rms(out);

  const hum = new Float32Array(n);
  addHarmonics(hum, phaseTrack(mains, null, n, sr, rng.next()), humAmps, { f0: mains, sr });
  mixAtRms(out, hum, db(humLevel + 2 * rng.normal()) * base);

  for (const o of others) {
    if (!rng.chance(o.on)) continue;
    const tone = new Float32Array(n);
    const hz = o.hz * Math.exp(0.03 * rng.normal());
    addHarmonics(
      tone,
      phaseTrack(hz, wander(n, sr, rng, 0.01, 0.2, 0.95), n, sr, rng.next()),
      [1, rng.uniform(0.2, 0.6), rng.uniform(0, 0.3)],
      { f0: hz, sr },
    );
    mixAtRms(out, tone, db(o.level + 3 * rng.normal()) * base);
  }

  if (rng.chance(0.35)) {
    // A passing forklift or people talking: band noise that swells and fades within the clip.
    const band = filter(
      filter(noise(n, rng), highpass(rng.uniform(150, 400), 0.7, sr)),
      bandpass(rng.uniform(500, 2500), rng.uniform(0.7, 2), sr),
    );
    const env = wander(n, sr, rng, 0.8, 0.15, 0.9);
    for (let i = 0; i < n; i++) band[i] *= env[i] as number;
    mixAtRms(out, band, db(rng.uniform(-12, -3)) * base);
  }

  const knocks = Math.floor(rng.uniform(0, 2 * knockRate) * (n / sr) + rng.next());
  for (let k = 0; k < knocks; k++) {
    const modes = [
      { f: rng.uniform(150, 3000), decay: rng.uniform(0.005, 0.05), gain: 1 },
      { f: rng.uniform(1000, 6000), decay: rng.uniform(0.002, 0.01), gain: rng.uniform(0, 0.5) },
    ];
    addImpact(out, rng.uniform(0, n), base * db(rng.uniform(-6, 8)), modes, sr);
  }
  const r = rms(out);
  for (let i = 0; i < n; i++) out[i] /= r;
  return out;
}
