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
} from '../dsp.js';
import { addBearingFault, addRubbing } from '../faults.js';
import type { Machine } from './types.js';

/**
 * Toy belt conveyor (ToyADMOS "ToyConveyor"): low belt rumble modulated at the roller rate, a
 * geared-motor hum with a gear-mesh partial, and a soft thump each time the belt seam passes a
 * roller. IDs differ by motor speed, belt length (seam period) and rumble colour.
 */
export const toyconveyor: Machine = {
  type: 'ToyConveyor',
  faults: ['belt-damage', 'roller-rub', 'bearing', 'overload'],
  render(idRng, rng, n, sr, fault) {
    const motorHz = idRng.uniform(115, 135);
    const hum = [1, idRng.uniform(0.3, 0.8), idRng.uniform(0.1, 0.5), idRng.uniform(0.05, 0.3)];
    const meshMult = idRng.int(6, 7);
    const meshLevel = db(idRng.uniform(-16, -8));
    const rollerHz = idRng.uniform(4, 8);
    const seamPeriod = idRng.uniform(0.6, 1.2);
    const rumbleCut = idRng.uniform(200, 500);
    const seam: Mode[] = [
      { f: idRng.uniform(100, 400), decay: 0.02, gain: 1 },
      { f: idRng.uniform(600, 1500), decay: 0.006, gain: 0.3 },
    ];
    const seamLevel = db(idRng.uniform(-2, 4));

    const s = fault?.severity ?? 0;
    const kind = fault?.kind;
    let speed = 1 + 0.01 * rng.normal();
    let rumbleGain = 1;
    if (kind === 'overload') {
      // A heavy load slows the motor and belt and makes the belt rumble louder.
      speed *= 1 - (0.03 + 0.08 * s);
      rumbleGain = db(5 * s);
    }
    const drift = wander(n, sr, rng, 0.005, 0.1, 0.97);
    const motorPhase = phaseTrack(motorHz * speed, drift, n, sr, rng.next());
    const motor = new Float32Array(n);
    addHarmonics(
      motor,
      motorPhase,
      hum.map((a) => a * db(0.7 * rng.normal())),
      { f0: motorHz, sr },
    );
    addHarmonics(motor, motorPhase, [meshLevel * 2], { mult: meshMult, f0: motorHz, sr });
    const rumble = filter(noise(n, rng), lowpass(rumbleCut, 0.7, sr));
    const rollPhase = rng.next();
    for (let i = 0; i < n; i++) rumble[i] *= 1 + 0.3 * sin2pi((rollerHz * speed * i) / sr + rollPhase);

    const core = new Float32Array(n);
    mixAtRms(core, motor, 1);
    mixAtRms(core, rumble, rumbleGain);
    const level = rms(core);
    const seamEvery = (seamPeriod / speed) * sr;
    const first = rng.uniform(0, seamEvery);
    for (let t = first; t < n; t += seamEvery) addImpact(core, t, seamLevel * level * rng.uniform(0.8, 1.2), seam, sr);
    if (kind === 'belt-damage') {
      // A torn belt edge flaps once per belt revolution, at another place than the seam.
      const at = rng.uniform(0.2, 0.8) * seamEvery;
      const flap: Mode[] = [
        { f: rng.uniform(1000, 3000), decay: 0.004, gain: 1 },
        { f: rng.uniform(300, 700), decay: 0.01, gain: 0.5 },
      ];
      for (let t = first + at - seamEvery; t < n; t += seamEvery)
        if (t >= 0) addImpact(core, t, 5 * s * level * rng.uniform(0.6, 1.2), flap, sr);
    } else if (kind === 'roller-rub') {
      addRubbing(core, rng, sr, rollerHz * speed, 1.2 * s * level, rng.uniform(0.4, 1));
    } else if (kind === 'bearing') {
      addBearingFault(core, rng, sr, motorHz * speed, 0.6 * s * level);
    }
    return { sound: core, level };
  },
};
