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
} from '../dsp.js';
import { addBearingFault, addRubbing, modulate } from '../faults.js';
import type { Machine } from './types.js';

/**
 * Industrial fan (MIMII "fan"): blade-pass tone B x shaft rate with harmonics over broadband
 * aerodynamic noise shaped by duct resonances, the noise itself modulated at the blade-pass
 * rate. IDs differ by speed (+-3 %), harmonic balance (~1.5 dB per partial) and resonances.
 */
export const fan: Machine = {
  type: 'fan',
  faults: ['imbalance', 'bearing', 'rubbing', 'clogging'],
  render(idRng, rng, n, sr, fault) {
    const blades = 7; // one blade count per type: IDs are the same model at other settings
    const shaft = 23 * idRng.uniform(0.97, 1.03);
    const tilt = idRng.uniform(0.7, 1.3);
    const amps = Array.from({ length: 10 }, (_, k) => (k + 1) ** -tilt * db(1.5 * idRng.normal()));
    const shaftTone = db(idRng.uniform(-40, -32));
    const modes = Array.from({ length: 3 }, () => ({
      f: Math.exp(idRng.uniform(Math.log(700), Math.log(1400))) * 2 ** idRng.int(-1, 1),
      q: idRng.uniform(1.5, 4),
      gain: idRng.uniform(0.3, 1),
    }));
    let tonalToNoise = db(idRng.uniform(-5, 3));
    const airHp = idRng.uniform(1500, 3000);

    const s = fault?.severity ?? 0;
    let speed = shaft * (1 + 0.01 * rng.normal());
    let noiseShift = 1;
    if (fault?.kind === 'clogging') {
      // Restricted flow: the fan unloads (speeds up slightly), tonal/broadband balance and the
      // duct resonances shift.
      speed *= 1 + 0.03 * s;
      tonalToNoise *= db(-5 * s);
      noiseShift = 1 - 0.15 * s;
    }
    const drift = wander(n, sr, rng, 0.004, 0.1, 0.97);
    const phase = phaseTrack(speed, drift, n, sr, rng.next());

    const tonal = new Float32Array(n);
    const clipAmps = amps.map((a) => a * db(0.8 * rng.normal()));
    addHarmonics(tonal, phase, clipAmps, { mult: blades, f0: speed, sr, phases: clipAmps.map(() => rng.next()) });
    addHarmonics(tonal, phase, [shaftTone, shaftTone * 0.4], { f0: speed, sr });

    const broad = resonate(
      pinkNoise(n, rng),
      modes.map((m) => ({ ...m, f: m.f * noiseShift * (1 + 0.02 * rng.normal()) })),
      sr,
    );
    const air = filter(noise(n, rng), highpass(airHp, 0.7, sr));
    mixInto(broad, air, 0.15);
    const bpDepth = 0.15;
    for (let i = 0; i < n; i++) broad[i] *= 1 + bpDepth * sin2pi(blades * (phase[i] as number));

    const core = new Float32Array(n);
    mixAtRms(core, tonal, tonalToNoise);
    mixAtRms(core, broad, 1);
    if (fault?.kind === 'clogging') {
      const rumble = filter(noise(n, rng), lowpass(120, 0.7, sr));
      mixAtRms(core, rumble, 0.5 * s * rms(core));
    }
    const level = rms(core);
    if (fault?.kind === 'imbalance') {
      modulate(core, sr, speed, 0.5 * s, rng.next());
      addHarmonics(core, phase, [0.5 * s * level], { f0: speed, sr });
    } else if (fault?.kind === 'bearing') {
      addBearingFault(core, rng, sr, speed, 0.6 * s * level);
    } else if (fault?.kind === 'rubbing') {
      addRubbing(core, rng, sr, speed, 1.2 * s * level, rng.uniform(0.3, 0.9));
    }
    return { sound: core, level };
  },
};
