import {
  addHarmonics,
  db,
  filter,
  highpass,
  lowpass,
  mixAtRms,
  mixInto,
  noise,
  phaseTrack,
  pinkNoise,
  resonate,
  rms,
  sin2pi,
  wander,
} from '../../dsp.js';
import { addBearingFault, addRubbing, modulate } from '../../faults.js';
import type { Machine } from '../../machines/types.js';
import {
  applyShifts,
  drawForClip,
  drawVector,
  type FaultShifts,
  faultSpreads,
  type ParamSpec,
  perturb,
} from '../params.js';

const P2 = {
  shaft: { nominal: 23, id: 0.032, clip: 0.004 },
  tilt: { nominal: 1, id: 0.16, clip: 0.02, scale: 'lin' },
  res1: { nominal: 800, id: 0.08, clip: 0.01 },
  res2: { nominal: 1700, id: 0.08, clip: 0.01 },
  res3: { nominal: 3100, id: 0.08, clip: 0.01 },
  tonalDb: { nominal: -1, id: 2.4, clip: 0.7, scale: 'lin' },
  bpDepth: { nominal: 0.15, id: 0.064, clip: 0.01, scale: 'lin' },
} as const satisfies ParamSpec<string>;
type K = keyof typeof P2;

/**
 * Industrial fan (MIMII "fan"), versions 2 and 3: one fan model (7 blades, ~23 Hz shaft) whose units
 * differ by ~3 % in speed, ~2.4 dB per blade-pass partial, 8 % in duct resonances. Clips vary
 * with load (speed, tonal balance). Faults move those same parameters beyond the units' spread
 * and add their own sound at a level set by severity.
 */
function fan(P: ParamSpec<K>, shifts: FaultShifts<K>): Machine {
  return {
    type: 'fan',
    faults: ['imbalance', 'bearing', 'rubbing', 'clogging', 'blade-damage'],
    render(idRng, rng, n, sr, fault) {
      const blades = 7;
      const { v, s, kind } = drawForClip(P, idRng, rng, fault);
      const partials = drawVector(10, 2.4, 0.5, idRng);
      let partialDb = partials.clip(rng);
      let rumble = 0;
      if (kind === 'clogging') {
        // Restricted flow unloads the fan: faster, less tonal, duct resonances shift.
        perturb(P, v, ['shaft'], s, rng, 1);
        perturb(P, v, ['tonalDb'], s, rng, -1);
        perturb(P, v, ['res1', 'res2', 'res3'], s, rng, -1);
        rumble = 0.3 * s;
      } else if (kind === 'blade-damage') {
        // A chipped or bent blade: the blade-pass partials rebalance and the pulsation deepens.
        const k = faultSpreads(s);
        partialDb = partialDb.map((d) => d + k * 2.4 * (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.5, 1));
        perturb(P, v, ['bpDepth', 'tilt'], s, rng);
      } else if (kind === 'imbalance') {
        perturb(P, v, ['shaft'], 0.3 * s, rng, -1);
      }

      applyShifts(P, v, shifts, fault, rng);
      const drift = wander(n, sr, rng, 0.003, 0.1, 0.97);
      const phase = phaseTrack(v.shaft, drift, n, sr, rng.next());
      const tonal = new Float32Array(n);
      const amps = partialDb.map((d, k) => (k + 1) ** -v.tilt * db(d));
      addHarmonics(tonal, phase, amps, { mult: blades, f0: v.shaft, sr, phases: amps.map(() => rng.next()) });
      addHarmonics(tonal, phase, [db(-36), db(-44)], { f0: v.shaft, sr });

      const modes = [
        { f: v.res1, q: 2.5, gain: 1 },
        { f: v.res2, q: 3, gain: 0.6 },
        { f: v.res3, q: 3, gain: 0.35 },
      ];
      const broad = resonate(pinkNoise(n, rng), modes, sr);
      mixInto(broad, filter(noise(n, rng), highpass(2200, 0.7, sr)), 0.12);
      const depth = Math.max(0, v.bpDepth);
      for (let i = 0; i < n; i++) broad[i] *= 1 + depth * sin2pi(blades * (phase[i] as number));

      const core = new Float32Array(n);
      mixAtRms(core, tonal, db(v.tonalDb));
      mixAtRms(core, broad, 1);
      const level = rms(core);
      if (rumble > 0) {
        const r = filter(noise(n, rng), lowpass(120, 0.7, sr));
        mixAtRms(core, r, rumble * level);
      }
      if (kind === 'imbalance') {
        modulate(core, sr, v.shaft, 0.08 * faultSpreads(s), rng.next());
        addHarmonics(core, phase, [0.08 * faultSpreads(s) * level], { f0: v.shaft, sr });
      } else if (kind === 'bearing') {
        addBearingFault(core, rng, sr, v.shaft, 0.15 * faultSpreads(s) * level);
      } else if (kind === 'rubbing') {
        addRubbing(core, rng, sr, v.shaft, 0.3 * faultSpreads(s) * level, rng.uniform(0.3, 0.9));
      }
      return { sound: core, level };
    },
  };
}

/** Version 2: faults as first released (kept byte-for-byte). */
export const fanV2 = fan(P2, {});

/**
 * Version 3: every fault kind also moves the ID signature (see FaultShifts).
 */
export const fanV3 = fan(P2, {
  // Friction slows the shaft and the bearing's vibration deepens the blade-pass pulsation.
  bearing: [
    ['shaft', -1],
    ['bpDepth', 1],
  ],
  // Drag slows the rotor; contact noise brightens the spectrum.
  rubbing: [
    ['shaft', -1],
    ['tilt', -1],
  ],
});
