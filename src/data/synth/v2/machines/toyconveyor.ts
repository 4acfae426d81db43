import {
  addHarmonics,
  addImpact,
  db,
  filter,
  lowpass,
  mixAtRms,
  noise,
  phaseTrack,
  rms,
  sin2pi,
  wander,
  type Mode,
} from '../../dsp.js';
import { addBearingFault, addRubbing } from '../../faults.js';
import type { Machine } from '../../machines/types.js';
import { applyShifts, drawForClip, drawVector, type FaultShifts, type ParamSpec, perturb } from '../params.js';

const P2 = {
  motorHz: { nominal: 125, id: 0.032, clip: 0.006 },
  rollerHz: { nominal: 6, id: 0.08, clip: 0.01 },
  seamPeriod: { nominal: 0.9, id: 0.08, clip: 0.005 },
  rumbleCut: { nominal: 350, id: 0.128, clip: 0.03 },
  meshDb: { nominal: -12, id: 2.4, clip: 0.7, scale: 'lin' },
  seamDb: { nominal: 0, id: 2.4, clip: 0.7, scale: 'lin' },
  seamF: { nominal: 250, id: 0.128, clip: 0.01 },
  rumbleDb: { nominal: -6, id: 1.6, clip: 0.8, scale: 'lin' },
} as const satisfies ParamSpec<string>;
type K = keyof typeof P2;

/**
 * Toy belt conveyor (ToyADMOS "ToyConveyor"), versions 2 and 3: belt rumble modulated at the roller
 * rate, geared-motor hum with a mesh partial (7x), a soft thump when the belt seam passes. The
 * units are alike (3 % speed, 8 % belt length, 2-3 dB in balance), the sound is mostly low
 * and broadband, and the faults are small changes to it (a worn belt, a rubbing roller, a
 * bearing, an overload), so it is the hardest type to check by ear, as in ToyADMOS.
 */
function toyconveyor(P: ParamSpec<K>, shifts: FaultShifts<K>): Machine {
  return {
    type: 'ToyConveyor',
    faults: ['belt-damage', 'roller-rub', 'bearing', 'overload'],
    render(idRng, rng, n, sr, fault) {
      const { v, s, kind, k } = drawForClip(P, idRng, rng, fault);
      const hum = drawVector(4, 2.4, 0.6, idRng);
      if (kind === 'overload') {
        perturb(P, v, ['motorHz', 'rollerHz'], s, rng, -1);
        perturb(P, v, ['rumbleDb'], s, rng, 1);
      } else if (kind === 'belt-damage') {
        perturb(P, v, ['seamDb', 'seamF'], s, rng);
      }
      applyShifts(P, v, shifts, fault, rng);
      const drift = wander(n, sr, rng, 0.004, 0.1, 0.97);
      const motorPhase = phaseTrack(v.motorHz, drift, n, sr, rng.next());
      const motor = new Float32Array(n);
      addHarmonics(
        motor,
        motorPhase,
        hum.clip(rng).map((d, j) => [1, 0.55, 0.3, 0.15][j]! * db(d)),
        { f0: v.motorHz, sr },
      );
      addHarmonics(motor, motorPhase, [2 * db(v.meshDb)], { mult: 7, f0: v.motorHz, sr });
      const rumble = filter(noise(n, rng), lowpass(v.rumbleCut, 0.7, sr));
      const rollPhase = rng.next();
      for (let i = 0; i < n; i++) rumble[i] *= 1 + 0.3 * sin2pi((v.rollerHz * i) / sr + rollPhase);

      const core = new Float32Array(n);
      mixAtRms(core, motor, 1);
      mixAtRms(core, rumble, 2 * db(v.rumbleDb));
      const level = rms(core);
      const seam: Mode[] = [
        { f: v.seamF, decay: 0.02, gain: 1 },
        { f: v.seamF * 3.1, decay: 0.006, gain: 0.3 },
      ];
      const seamEvery = v.seamPeriod * sr;
      const first = rng.uniform(0, seamEvery);
      for (let t = first; t < n; t += seamEvery)
        addImpact(core, t, db(v.seamDb) * level * rng.uniform(0.8, 1.2), seam, sr);
      if (kind === 'belt-damage') {
        const at = rng.uniform(0.2, 0.8) * seamEvery;
        const flap: Mode[] = [
          { f: rng.uniform(800, 2500), decay: 0.004, gain: 1 },
          { f: rng.uniform(300, 700), decay: 0.01, gain: 0.5 },
        ];
        for (let t = first + at - seamEvery; t < n; t += seamEvery)
          if (t >= 0) addImpact(core, t, 0.5 * k * level * rng.uniform(0.6, 1.2), flap, sr);
      } else if (kind === 'roller-rub') {
        addRubbing(core, rng, sr, v.rollerHz, 0.15 * k * level, rng.uniform(0.4, 1));
      } else if (kind === 'bearing') {
        addBearingFault(core, rng, sr, v.motorHz, 0.06 * k * level);
      }
      return { sound: core, level };
    },
  };
}

/** Version 2: faults as first released (kept byte-for-byte). */
export const toyconveyorV2 = toyconveyor(P2, {});

/**
 * Version 3: every fault kind also moves the ID signature (see FaultShifts).
 */
export const toyconveyorV3 = toyconveyor(P2, {
  // A rubbing roller brakes the belt and brightens the rumble.
  'roller-rub': [
    ['rollerHz', -1],
    ['rumbleCut', 1],
  ],
  // A worn bearing loads the motor and makes the mesh louder.
  bearing: [
    ['motorHz', -1],
    ['meshDb', 1],
  ],
  // A damaged, stretched belt runs slower over the rollers.
  'belt-damage': [['rollerHz', -1]],
});
