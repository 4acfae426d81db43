import {
  addHarmonics,
  addImpact,
  db,
  filter,
  highpass,
  lowpass,
  mixAtRms,
  noise,
  phaseTrack,
  rms,
  sin2pi,
  wander,
  type Mode,
} from '../../dsp.js';
import type { Machine } from '../../machines/types.js';
import { applyShifts, drawForClip, drawVector, type FaultShifts, type ParamSpec, perturb } from '../params.js';

const P2 = {
  motorHz: { nominal: 200, id: 0.048, clip: 0.012 },
  ratio: { nominal: 13, id: 0.08, clip: 0 },
  meshDb: { nominal: -10, id: 3.2, clip: 0.7, scale: 'lin' },
  brushDb: { nominal: -16, id: 3.2, clip: 1, scale: 'lin' },
  rumbleCut: { nominal: 300, id: 0.16, clip: 0.03 },
  chassis: { nominal: 140, id: 0.16, clip: 0 },
  tilt: { nominal: 0.9, id: 0.16, clip: 0.03, scale: 'lin' },
} as const satisfies ParamSpec<string>;
type K = keyof typeof P2;

/**
 * Toy car on a track (ToyADMOS "ToyCar"), versions 2 and 3: DC-motor whine whose rpm drifts along the
 * track, a gear-mesh tone (11 teeth) with sidebands, brush noise, tyre rumble at the wheel rate.
 * Units differ by ~5 % motor speed, gear ratio, partial balance, resonances; clips vary a lot
 * in speed (track position, battery). Faults: a bent shaft or damaged tyre (once per wheel turn),
 * damaged gear teeth (once per motor turn), a wrong supply voltage (speed and balance shift).
 */
function toycar(P: ParamSpec<K>, shifts: FaultShifts<K>): Machine {
  return {
    type: 'ToyCar',
    faults: ['bent-shaft', 'gear-damage', 'tire-damage', 'voltage'],
    render(idRng, rng, n, sr, fault) {
      const teeth = 11;
      const { v, s, kind, k } = drawForClip(P, idRng, rng, fault);
      const partials = drawVector(6, 3.2, 0.7, idRng);
      let partialDb = partials.clip(rng);
      if (kind === 'voltage') {
        perturb(P, v, ['motorHz', 'brushDb'], s, rng);
        partialDb = partialDb.map((d, j) => d + (j >= 2 ? k * 2.4 : 0));
      } else if (kind === 'gear-damage') {
        perturb(P, v, ['meshDb'], s, rng, 1);
      }
      applyShifts(P, v, shifts, fault, rng);
      const drift = wander(n, sr, rng, 0.03, 0.2, 0.95);
      const phase = phaseTrack(v.motorHz, drift, n, sr, rng.next());
      const whine = new Float32Array(n);
      addHarmonics(
        whine,
        phase,
        partialDb.map((d, j) => (j + 1) ** -v.tilt * db(d)),
        { f0: v.motorHz, sr },
      );
      const mesh = new Float32Array(n);
      addHarmonics(mesh, phase, [1], { mult: teeth, f0: v.motorHz, sr });
      for (let i = 0; i < n; i++) mesh[i] *= 1 + 0.4 * sin2pi(phase[i] as number);
      const brush = filter(noise(n, rng), highpass(3000, 0.7, sr));
      const rumble = filter(noise(n, rng), lowpass(v.rumbleCut, 0.7, sr));
      for (let i = 0; i < n; i++) rumble[i] *= 1 + 0.3 * sin2pi((phase[i] as number) / v.ratio);

      const core = new Float32Array(n);
      mixAtRms(core, whine, 1);
      mixAtRms(core, mesh, db(v.meshDb));
      mixAtRms(core, brush, db(v.brushDb));
      mixAtRms(core, rumble, 0.5);
      const level = rms(core);
      const chassis: Mode[] = [{ f: v.chassis, decay: 0.03, gain: 1 }];
      const onceEvery = (turns: number, fn: (i: number) => void): void => {
        for (let i = 1; i < n; i++)
          if (Math.floor((phase[i] as number) / turns) !== Math.floor((phase[i - 1] as number) / turns)) fn(i);
      };
      if (kind === 'bent-shaft') {
        const off = rng.next();
        for (let i = 0; i < n; i++) core[i] *= 1 + 0.12 * k * sin2pi((phase[i] as number) / v.ratio + off);
      } else if (kind === 'gear-damage') {
        const modes: Mode[] = [
          { f: Math.min(0.4 * sr, v.motorHz * teeth), decay: 0.003, gain: 1 },
          { f: rng.uniform(3000, 6000), decay: 0.0015, gain: 0.6 },
        ];
        onceEvery(1, (i) => addImpact(core, i, 0.2 * k * level * rng.uniform(0.6, 1.2), modes, sr));
      } else if (kind === 'tire-damage') {
        onceEvery(v.ratio, (i) => addImpact(core, i, 0.5 * k * level * rng.uniform(0.7, 1.2), chassis, sr));
      }
      return { sound: core, level };
    },
  };
}

/** Version 2: faults as first released (kept byte-for-byte). */
export const toycarV2 = toycar(P2, {});

/**
 * Version 3: every fault kind also moves the ID signature (see FaultShifts).
 */
export const toycarV3 = toycar(P2, {
  // A bent shaft wobbles: more load (slower motor) and an uneven gear mesh.
  'bent-shaft': [
    ['motorHz', -1],
    ['meshDb', 1],
  ],
  // Damaged teeth change the drive's balance towards high frequencies.
  'gear-damage': [['tilt', -1]],
  // A damaged tyre rolls rougher: more and brighter rumble, the chassis rings differently.
  'tire-damage': [['rumbleCut', 1], ['chassis'], ['tilt', -1]],
});
