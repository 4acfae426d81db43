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
} from '../dsp.js';
import type { Machine } from './types.js';

/**
 * Toy car on a track (ToyADMOS "ToyCar"): DC-motor whine (harmonics of the motor rate) whose rpm
 * drifts as the car runs, a gear-mesh tone with sidebands, brush noise and tyre rumble
 * modulated at the wheel rate. IDs differ by motor speed, gear ratio and resonances.
 */
export const toycar: Machine = {
  type: 'ToyCar',
  faults: ['bent-shaft', 'gear-damage', 'tire-damage', 'voltage'],
  render(idRng, rng, n, sr, fault) {
    const motorHz = idRng.uniform(190, 215);
    const ratio = idRng.uniform(11, 15);
    const teeth = idRng.int(10, 11);
    const amps = Array.from({ length: 6 }, (_, k) => (k + 1) ** -idRng.uniform(0.6, 1.2) * db(2 * idRng.normal()));
    const meshLevel = db(idRng.uniform(-14, -6));
    const brushLevel = db(idRng.uniform(-20, -12));
    const rumbleCut = idRng.uniform(200, 400);
    const chassis: Mode[] = [{ f: idRng.uniform(90, 200), decay: 0.03, gain: 1 }];

    const s = fault?.severity ?? 0;
    const kind = fault?.kind;
    let speed = motorHz * (1 + 0.025 * rng.normal());
    let balance = 0;
    if (kind === 'voltage') {
      // Wrong supply voltage: the motor runs faster or slower and the commutator partials change.
      speed *= 1 + (rng.chance(0.5) ? 1 : -1) * (0.03 + 0.12 * s);
      balance = 6 * s;
    }
    // rpm drift: the car speeds up and slows down along the track.
    const drift = wander(n, sr, rng, 0.04, 0.2, 0.95);
    const phase = phaseTrack(speed, drift, n, sr, rng.next());

    const whine = new Float32Array(n);
    addHarmonics(
      whine,
      phase,
      amps.map((a, k) => a * db(0.7 * rng.normal() + (k >= 2 ? balance : 0))),
      { f0: speed, sr },
    );
    const mesh = new Float32Array(n);
    addHarmonics(mesh, phase, [1], { mult: teeth, f0: speed, sr });
    for (let i = 0; i < n; i++) mesh[i] *= 1 + 0.4 * sin2pi(phase[i] as number);
    const brush = filter(noise(n, rng), highpass(3000, 0.7, sr));
    const rumble = filter(noise(n, rng), lowpass(rumbleCut, 0.7, sr));
    for (let i = 0; i < n; i++) rumble[i] *= 1 + 0.3 * sin2pi((phase[i] as number) / ratio);

    const core = new Float32Array(n);
    mixAtRms(core, whine, 1);
    mixAtRms(core, mesh, meshLevel);
    mixAtRms(core, brush, brushLevel);
    mixAtRms(core, rumble, 0.5);
    const level = rms(core);
    // Events tied to a rotation: index where the rotating phase crosses an integer.
    const onceEvery = (turnsPerEvent: number, fn: (i: number) => void): void => {
      for (let i = 1; i < n; i++) {
        if (Math.floor((phase[i] as number) / turnsPerEvent) !== Math.floor((phase[i - 1] as number) / turnsPerEvent))
          fn(i);
      }
    };
    if (kind === 'bent-shaft') {
      const off = rng.next();
      for (let i = 0; i < n; i++) core[i] *= 1 + 0.5 * s * sin2pi((phase[i] as number) / ratio + off);
    } else if (kind === 'gear-damage') {
      const modes: Mode[] = [
        { f: Math.min(0.4 * sr, speed * teeth * rng.uniform(0.9, 1.1)), decay: 0.003, gain: 1 },
        { f: rng.uniform(3000, 6000), decay: 0.0015, gain: 0.6 },
      ];
      onceEvery(1, (i) => addImpact(core, i, 1.2 * s * level * rng.uniform(0.6, 1.2), modes, sr));
    } else if (kind === 'tire-damage') {
      onceEvery(ratio, (i) => addImpact(core, i, 2.5 * s * level * rng.uniform(0.7, 1.2), chassis, sr));
    }
    return { sound: core, level };
  },
};
