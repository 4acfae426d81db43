import {
  addBurst,
  addHarmonics,
  addImpact,
  bandpass,
  db,
  filter,
  mixAtRms,
  noise,
  phaseTrack,
  rms,
  type Mode,
} from '../dsp.js';
import { addBearingFault } from '../faults.js';
import type { Machine } from './types.js';

/**
 * Linear slide rail (MIMII "slider"): back-and-forth strokes; while moving, a motor whine whose
 * pitch follows the carriage speed and rail rolling noise; an impact on the end stop at each
 * stroke end. IDs differ by stroke timing, motor pitch and the end-stop modes.
 */
export const slider: Machine = {
  type: 'slider',
  faults: ['rail-damage', 'no-grease', 'loose-belt', 'bearing'],
  render(idRng, rng, n, sr, fault) {
    const period = idRng.uniform(1.1, 1.5);
    const travel = idRng.uniform(0.55, 0.8);
    const motorHz = idRng.uniform(300, 360);
    const motorAmps = [1, idRng.uniform(0.2, 0.6), idRng.uniform(0.1, 0.4), idRng.uniform(0.05, 0.2)];
    const railBand = bandpass(idRng.uniform(1200, 3200), idRng.uniform(1, 2.5), sr);
    const stop: Mode[] = Array.from({ length: 3 }, () => ({
      f: Math.exp(idRng.uniform(Math.log(900), Math.log(1800))),
      decay: idRng.uniform(0.01, 0.04),
      gain: idRng.uniform(0.4, 1),
    }));
    const impactLevel = db(idRng.uniform(-4, 4));
    const railLevel = db(idRng.uniform(-8, -2));

    const s = fault?.severity ?? 0;
    const kind = fault?.kind;
    const clipPeriod = period * (1 + 0.015 * rng.normal());
    const timing = kind === 'loose-belt' ? 0.015 + 0.12 * s : 0.015;

    // Velocity envelope: half a sine over each stroke, strokes every half period.
    const vel = new Float32Array(n);
    const strokes: Array<{ start: number; len: number }> = [];
    let t = -rng.uniform(0, clipPeriod) * sr;
    while (t < n) {
      const len = ((travel * clipPeriod) / 2) * sr * (1 + timing * rng.normal());
      strokes.push({ start: t, len });
      for (let i = Math.max(0, Math.ceil(t)); i < Math.min(n, t + len); i++)
        vel[i] = Math.sin((Math.PI * (i - t)) / len);
      t += (clipPeriod / 2) * sr * (1 + timing * rng.normal());
    }
    const pitch = new Float32Array(n);
    for (let i = 0; i < n; i++) pitch[i] = 0.3 + 0.7 * (vel[i] as number);
    const motorPhase = phaseTrack(motorHz, pitch, n, sr, rng.next());
    const motor = new Float32Array(n);
    addHarmonics(motor, motorPhase, motorAmps, { f0: motorHz, sr, env: vel });
    const rail = filter(noise(n, rng), railBand);
    for (let i = 0; i < n; i++) rail[i] *= vel[i] as number;

    const core = new Float32Array(n);
    mixAtRms(core, motor, 1);
    mixAtRms(core, rail, railLevel);
    const level = rms(core);
    const missing = kind === 'loose-belt' ? 0.3 * s : 0;
    for (const st of strokes) {
      const end = st.start + st.len;
      if (end < 0 || end >= n || rng.chance(missing)) continue;
      addImpact(core, end, 3 * level * impactLevel * rng.uniform(0.85, 1.15), stop, sr);
      if (kind === 'loose-belt' && rng.chance(s))
        addImpact(core, end + sr * rng.uniform(0.02, 0.06), 1.5 * level * impactLevel * s, stop, sr);
    }
    if (kind === 'rail-damage') {
      // A dent at one place on the rail clicks every time the carriage rolls over it.
      const where = rng.uniform(0.2, 0.8);
      const click: Mode[] = [
        { f: rng.uniform(2000, 5000), decay: 0.002, gain: 1 },
        { f: rng.uniform(800, 1800), decay: 0.004, gain: 0.5 },
      ];
      for (const st of strokes) {
        const at = st.start + where * st.len;
        if (at >= 0 && at < n) addImpact(core, at, 6 * s * level, click, sr);
      }
    } else if (kind === 'no-grease') {
      // Dry sliding: squeal bursts (a tone with jitter) and scraping while moving.
      const squealHz = rng.uniform(1500, 3500);
      const sq = new Float32Array(n);
      for (let i = 0; i < n; i++) pitch[i] = 1 + 0.02 * (vel[i] as number);
      const sqPhase = phaseTrack(squealHz, pitch, n, sr, 0);
      addHarmonics(sq, sqPhase, [1, 0.3], { f0: squealHz, sr, env: vel });
      const scrape = filter(noise(n, rng), bandpass(rng.uniform(3000, 6000), 1.5, sr));
      for (let i = 0; i < n; i++)
        core[i] += s * level * (0.6 * (sq[i] as number) + 0.8 * (scrape[i] as number) * (vel[i] as number));
    } else if (kind === 'bearing') {
      addBearingFault(core, rng, sr, motorHz / 8, 0.6 * s * level);
      for (const st of strokes)
        if (st.start > 0 && st.start < n && rng.chance(0.5))
          addBurst(core, st.start, 0.02 * sr, 0.3 * s * level, railBand, rng);
    }
    return { sound: core, level };
  },
};
