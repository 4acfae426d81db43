import { addImpact, bandpass, db, filter, highpass, noise, rms, type Mode } from '../../dsp.js';
import { addHiss } from '../../faults.js';
import type { Machine } from '../../machines/types.js';
import { applyShifts, drawForClip, type FaultShifts, type ParamSpec, perturb, withNominal } from '../params.js';

const P2 = {
  period: { nominal: 1.6, id: 0.096, clip: 0.008 },
  openFor: { nominal: 0.42, id: 0.128, clip: 0.01 },
  click1: { nominal: 2800, id: 0.128, clip: 0.005 },
  click2: { nominal: 3500, id: 0.128, clip: 0.005 },
  thump: { nominal: 200, id: 0.192, clip: 0.01 },
  decay: { nominal: 0.012, id: 0.16, clip: 0.02 },
  closeDb: { nominal: -3, id: 2.4, clip: 0.5, scale: 'lin' },
  hiss: { nominal: 3500, id: 0.16, clip: 0.02 },
  hissDb: { nominal: -30, id: 3.2, clip: 1, scale: 'lin' },
} as const satisfies ParamSpec<string>;
type K = keyof typeof P2;

/**
 * Solenoid valve (MIMII "valve"), versions 2 and 3: a repeating open/close pattern, each switch a click
 * (plunger modes) with a low thump, soft hiss while open. Units differ by ~10 % in the pattern's
 * period, 13 % in the open time and click modes. Faults change the timing and the
 * clicks beyond that spread (sticking, bouncing, missing switches) or add a leak's hiss.
 */
function valve(P: ParamSpec<K>, shifts: FaultShifts<K>): Machine {
  return {
    type: 'valve',
    faults: ['contamination', 'leak', 'timing', 'sticking'],
    render(idRng, rng, n, sr, fault) {
      const { v, s, kind, k } = drawForClip(P, idRng, rng, fault);
      if (kind === 'contamination') perturb(P, v, ['click1', 'click2', 'decay', 'thump'], s, rng, -1);
      else if (kind === 'sticking') perturb(P, v, ['openFor'], s, rng, 1);
      else if (kind === 'timing') perturb(P, v, ['period', 'openFor'], s, rng);
      applyShifts(P, v, shifts, fault, rng);
      const modes: Mode[] = [
        { f: v.click1, decay: v.decay, gain: 1 },
        { f: v.click2, decay: v.decay * 0.7, gain: 0.6 },
        { f: v.thump, decay: 0.015, gain: 0.45 },
      ];
      const bounce = kind === 'contamination' ? 0.15 * k : 0;

      const core = new Float32Array(n);
      const open = new Float32Array(n);
      let t = -rng.uniform(0, v.period) * sr;
      while (t < n) {
        let dur = v.openFor * v.period * sr * (1 + 0.01 * rng.normal());
        if (kind === 'sticking') dur *= 1 + 0.06 * k * rng.uniform(0.5, 1);
        dur = Math.min(dur, 0.85 * v.period * sr);
        const skip = kind === 'timing' && rng.chance(0.1 * k);
        const which = rng.next();
        for (const [at, g, isOpen] of [
          [t, 1, true],
          [t + dur, db(v.closeDb), false],
        ] as const) {
          if (skip && which < 0.5 === isOpen) continue;
          if (at < 0 || at >= n) continue;
          addImpact(core, at, g * db(0.8 * rng.normal()), modes, sr);
          // A sticking plunger chatters as it finally lets go.
          if (kind === 'sticking' && !isOpen)
            addImpact(core, at + sr * rng.uniform(0.02, 0.06), g * 0.12 * k, modes, sr);
          if (bounce > 0 && rng.chance(0.7))
            addImpact(core, at + sr * rng.uniform(0.004, 0.012), g * bounce * rng.uniform(0.5, 1), modes, sr);
        }
        if (kind === 'timing' && rng.chance(0.1 * k)) {
          // A spurious switch between two regular ones.
          const extra = t + dur + rng.uniform(0.15, 0.45) * v.period * sr;
          if (extra >= 0 && extra < n) addImpact(core, extra, rng.uniform(0.5, 1), modes, sr);
        }
        for (let i = Math.max(0, Math.ceil(t)); i < Math.min(n, t + dur); i++) open[i] = 1;
        t += v.period * sr * (1 + 0.01 * rng.normal());
      }
      filter(open, bandpass(1, 0.5, sr));
      const hiss = filter(filter(noise(n, rng), highpass(1500, 0.7, sr)), bandpass(v.hiss, 1.5, sr));
      const hissAmp = 3 * db(v.hissDb);
      for (let i = 0; i < n; i++)
        core[i] += hissAmp * Math.min(1, Math.abs((open[i] as number) * 2)) * (hiss[i] as number);
      const level = rms(core);
      if (kind === 'leak') {
        // Gas escapes while closed: hiss in the gaps, as loud as the ID's open hiss times a few.
        const closed = Float32Array.from(open, (o) => 1 - Math.min(1, Math.abs(o * 2)));
        addHiss(core, rng, sr, 0.25 * k * hissAmp, closed);
      }
      return { sound: core, level };
    },
  };
}

/** Version 2: faults as first released (kept byte-for-byte). */
export const valveV2 = valve(P2, {});

/**
 * Version 3: every fault kind also moves the ID signature (see FaultShifts);
 * the pattern repeats faster so that a 2 s clip holds two or more cycles.
 */
export const valveV3 = valve(withNominal(P2, { period: 0.8 }), {
  // Lost pressure: a weaker closing stroke and louder, duller gas noise.
  leak: [
    ['closeDb', -1],
    ['hissDb', 1],
    ['hiss', -1],
  ],
  // A sluggish plunger lands softer, rings longer and seats off-centre (its upper mode moves).
  sticking: [['closeDb', -1], ['decay', 1], ['click2']],
  // A failing pilot stage: besides the pattern's timing, more gas passes while open.
  timing: [['hissDb', 1], ['hiss']],
});
