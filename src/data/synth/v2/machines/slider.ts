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
} from '../../dsp.js';
import { addBearingFault } from '../../faults.js';
import type { Machine } from '../../machines/types.js';
import { applyShifts, drawForClip, type FaultShifts, type ParamSpec, perturb, withNominal } from '../params.js';

const P2 = {
  period: { nominal: 1.3, id: 0.08, clip: 0.008 },
  travel: { nominal: 0.68, id: 0.08, clip: 0.01 },
  motorHz: { nominal: 330, id: 0.064, clip: 0.005 },
  rail: { nominal: 2000, id: 0.16, clip: 0.02 },
  stop1: { nominal: 1000, id: 0.128, clip: 0.005 },
  stop2: { nominal: 1500, id: 0.128, clip: 0.005 },
  impactDb: { nominal: 0, id: 2.4, clip: 0.5, scale: 'lin' },
  railDb: { nominal: -5, id: 2.4, clip: 0.7, scale: 'lin' },
  timing: { nominal: 0.012, id: 0.0048, clip: 0.001, scale: 'lin' },
} as const satisfies ParamSpec<string>;
type K = keyof typeof P2;

/**
 * Linear slide rail (MIMII "slider"), versions 2 and 3: back-and-forth strokes with a motor whine that
 * follows the carriage speed, rail rolling noise and an end-stop impact per stroke. Units differ by
 * ~8 % in stroke period and travel, 6 % in motor pitch, 13 % in end-stop modes, 2-3 dB in levels. Faults change
 * the stroke timing and the impacts (what the real slider anomalies do) and add their own sounds.
 */
function slider(P: ParamSpec<K>, shifts: FaultShifts<K>): Machine {
  return {
    type: 'slider',
    faults: ['rail-damage', 'no-grease', 'loose-belt', 'bearing'],
    render(idRng, rng, n, sr, fault) {
      const { v, s, kind, k } = drawForClip(P, idRng, rng, fault);
      if (kind === 'loose-belt') {
        // Slack: strokes lengthen and wander, the motor unloads.
        perturb(P, v, ['period', 'travel'], s, rng, 1);
        v.timing += 0.02 * k;
      } else if (kind === 'no-grease') {
        // Friction slows the carriage and loads the motor.
        perturb(P, v, ['period'], s, rng, 1);
        perturb(P, v, ['motorHz'], s, rng, -1);
        perturb(P, v, ['railDb'], s, rng, 1);
      } else if (kind === 'rail-damage') {
        perturb(P, v, ['stop1', 'stop2', 'impactDb'], 0.5 * s, rng);
      }
      applyShifts(P, v, shifts, fault, rng);
      const stop: Mode[] = [
        { f: v.stop1, decay: 0.025, gain: 1 },
        { f: v.stop2, decay: 0.015, gain: 0.6 },
        { f: v.stop1 * 2.7, decay: 0.006, gain: 0.3 },
      ];
      const vel = new Float32Array(n);
      const strokes: Array<{ start: number; len: number }> = [];
      let t = -rng.uniform(0, v.period) * sr;
      while (t < n) {
        const len = ((v.travel * v.period) / 2) * sr * (1 + v.timing * rng.normal());
        strokes.push({ start: t, len });
        for (let i = Math.max(0, Math.ceil(t)); i < Math.min(n, t + len); i++)
          vel[i] = Math.sin((Math.PI * (i - t)) / len);
        t += (v.period / 2) * sr * (1 + v.timing * rng.normal());
      }
      const pitch = new Float32Array(n);
      for (let i = 0; i < n; i++) pitch[i] = 0.3 + 0.7 * (vel[i] as number);
      // The drive hums at standstill too (a quarter of its running level), as the real rails do.
      const drive = Float32Array.from(vel, (x) => 0.25 + 0.75 * x);
      const motor = new Float32Array(n);
      addHarmonics(motor, phaseTrack(v.motorHz, pitch, n, sr, rng.next()), [1, 0.4, 0.25, 0.1], {
        f0: v.motorHz,
        sr,
        env: drive,
      });
      const rail = filter(noise(n, rng), bandpass(v.rail, 1.8, sr));
      for (let i = 0; i < n; i++) rail[i] *= vel[i] as number;

      const core = new Float32Array(n);
      mixAtRms(core, motor, 1);
      mixAtRms(core, rail, db(v.railDb));
      const level = rms(core);
      const missing = kind === 'loose-belt' ? 0.08 * k : 0;
      for (const st of strokes) {
        const end = st.start + st.len;
        if (end < 0 || end >= n || rng.chance(missing)) continue;
        addImpact(core, end, 2 * level * db(v.impactDb) * rng.uniform(0.9, 1.1), stop, sr);
        if (kind === 'loose-belt' && rng.chance(0.25 * k))
          addImpact(core, end + sr * rng.uniform(0.02, 0.06), 0.4 * k * level * db(v.impactDb), stop, sr);
      }
      if (kind === 'rail-damage') {
        // A dent clicks every time the carriage rolls over it.
        const where = rng.uniform(0.2, 0.8);
        const click: Mode[] = [
          { f: rng.uniform(2000, 5000), decay: 0.008, gain: 1 },
          { f: rng.uniform(800, 1800), decay: 0.015, gain: 0.5 },
        ];
        for (const st of strokes) {
          const at = st.start + where * st.len;
          if (at >= 0 && at < n) addImpact(core, at, 1.2 * k * level, click, sr);
        }
      } else if (kind === 'no-grease') {
        const scrape = filter(noise(n, rng), bandpass(rng.uniform(3000, 6000), 1.5, sr));
        for (let i = 0; i < n; i++) core[i] += 0.2 * k * level * (scrape[i] as number) * (vel[i] as number);
      } else if (kind === 'bearing') {
        addBearingFault(core, rng, sr, v.motorHz / 8, 0.12 * k * level);
        for (const st of strokes)
          if (st.start > 0 && st.start < n && rng.chance(0.5))
            addBurst(core, st.start, 0.02 * sr, 0.08 * k * level, bandpass(v.rail, 1.8, sr), rng);
      }
      return { sound: core, level };
    },
  };
}

/** Version 2: faults as first released (kept byte-for-byte). */
export const sliderV2 = slider(P2, {});

/**
 * Version 3: every fault kind also moves the ID signature (see FaultShifts);
 * the pattern repeats faster so that a 2 s clip holds two or more cycles.
 */
export const sliderV3 = slider(withNominal(P2, { period: 1 }), {
  // Friction in the carriage bearing loads the motor and roughens the rail noise.
  bearing: [
    ['motorHz', -1],
    ['railDb', 1],
  ],
  // A slack belt cushions the stroke ends and unloads the motor (it runs faster).
  'loose-belt': [
    ['impactDb', -1],
    ['motorHz', 1],
  ],
  // A damaged rail rolls louder.
  'rail-damage': [['railDb', 1]],
});
