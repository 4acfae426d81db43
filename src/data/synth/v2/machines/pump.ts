import {
  addHarmonics,
  db,
  filter,
  lowpass,
  mixAtRms,
  mixInto,
  noise,
  phaseTrack,
  resonate,
  rms,
  wander,
} from '../../dsp.js';
import { addBearingFault, addCrackle, addHiss } from '../../faults.js';
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
  shaft: { nominal: 24.5, id: 0.032, clip: 0.004 },
  width: { nominal: 0.32, id: 0.128, clip: 0.02 },
  pipe1: { nominal: 380, id: 0.096, clip: 0.01 },
  pipe2: { nominal: 610, id: 0.096, clip: 0.01 },
  q: { nominal: 5, id: 0.24, clip: 0.03 },
  humDb: { nominal: -8, id: 2.4, clip: 0.7, scale: 'lin' },
  flowDb: { nominal: -3, id: 2.4, clip: 1, scale: 'lin' },
  flowCut: { nominal: 800, id: 0.16, clip: 0.05 },
  jitter: { nominal: 0.05, id: 0.016, clip: 0.005, scale: 'lin' },
} as const satisfies ParamSpec<string>;
type K = keyof typeof P2;

/**
 * Centrifugal pump (MIMII "pump"), versions 2 and 3: vane-pass pressure pulses (6 vanes x ~24.5 Hz)
 * ringing two pipe resonances, 100 Hz motor hum family, fluctuating flow noise. Units differ by
 * ~3 % speed, pulse shape, pipe resonances (~10 %) and hum balance; clips by load and flow.
 */
function pump(P: ParamSpec<K>, shifts: FaultShifts<K>): Machine {
  return {
    type: 'pump',
    faults: ['leak', 'cavitation', 'clogging', 'bearing'],
    render(idRng, rng, n, sr, fault) {
      const vanes = 6;
      const { v, s, kind } = drawForClip(P, idRng, rng, fault);
      const humBalance = drawVector(4, 3.2, 0.6, idRng);
      if (kind === 'clogging') {
        // A clogged impeller pulses irregularly, runs slower and passes less flow.
        perturb(P, v, ['shaft', 'flowDb'], s, rng, -1);
        perturb(P, v, ['width'], s, rng);
        v.jitter += 0.25 * s;
      } else if (kind === 'cavitation') {
        // Vapour bubbles: pulses become irregular and the pipe resonances damp.
        v.jitter += 0.12 * s;
        perturb(P, v, ['q'], s, rng, -1);
      } else if (kind === 'leak') {
        perturb(P, v, ['flowDb', 'flowCut'], 0.5 * s, rng, 1);
      }
      applyShifts(P, v, shifts, fault, rng);
      const drift = wander(n, sr, rng, 0.003, 0.1, 0.97);
      const phase = phaseTrack(v.shaft * vanes, drift, n, sr, rng.next());
      const cycles = Math.ceil((phase[n - 1] as number) - (phase[0] as number)) + 2;
      const pulseAmp = Float32Array.from({ length: cycles }, () => Math.max(0, 1 + v.jitter * rng.normal()));
      const pulses = new Float32Array(n);
      const base = Math.floor(phase[0] as number);
      const width = Math.min(0.9, v.width);
      for (let i = 0; i < n; i++) {
        const p = phase[i] as number;
        const c = Math.floor(p);
        const u = p - c;
        if (u < width) pulses[i] = (pulseAmp[c - base] as number) * (0.5 - 0.5 * Math.cos((2 * Math.PI * u) / width));
      }
      const pulsation = resonate(
        pulses,
        [
          { f: v.pipe1, q: v.q, gain: 1 },
          { f: v.pipe2, q: v.q, gain: 0.6 },
        ],
        sr,
      );
      mixInto(pulsation, pulses, 0.3);

      const motor = new Float32Array(n);
      const hum = humBalance.clip(rng).map((d, k) => [1, 0.5, 0.25, 0.12][k]! * db(d));
      addHarmonics(motor, phaseTrack(100, null, n, sr, rng.next()), hum, { f0: 100, sr });
      const flow = filter(noise(n, rng), lowpass(v.flowCut, 0.7, sr));
      const flowEnv = wander(n, sr, rng, 0.15, 0.05, 0.9);
      for (let i = 0; i < n; i++) flow[i] *= flowEnv[i] as number;

      const core = new Float32Array(n);
      mixAtRms(core, pulsation, 1);
      mixAtRms(core, motor, db(v.humDb));
      mixAtRms(core, flow, db(v.flowDb));
      const level = rms(core);
      const k = faultSpreads(s) / 4;
      if (kind === 'leak') addHiss(core, rng, sr, 0.25 * k * level);
      else if (kind === 'cavitation') addCrackle(core, rng, sr, rng.uniform(60, 300), 0.8 * k * level);
      else if (kind === 'bearing') addBearingFault(core, rng, sr, v.shaft, 0.4 * k * level);
      return { sound: core, level };
    },
  };
}

/** Version 2: faults as first released (kept byte-for-byte). */
export const pumpV2 = pump(P2, {});

/**
 * Version 3: every fault kind also moves the ID signature (see FaultShifts).
 */
export const pumpV3 = pump(P2, {
  // A worn bearing loads the motor (slower) and its vibration raises the hum family.
  bearing: [
    ['shaft', -1],
    ['humDb', 1],
  ],
  // Vapour in the liquid lowers the pipe resonances and reshapes the pressure pulses.
  cavitation: [['pipe1', -1], ['pipe2', -1], ['width']],
  // Losing pressure unloads the pump: it speeds up.
  leak: [['shaft', 1]],
});
