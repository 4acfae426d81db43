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
} from '../dsp.js';
import { addBearingFault, addCrackle, addHiss } from '../faults.js';
import type { Machine } from './types.js';

/**
 * Centrifugal water pump (MIMII "pump"): pressure pulsation at the vane-pass rate (vanes x shaft)
 * as smooth pulses ringing the pipe resonances, mains-locked motor hum (100 Hz family) and
 * low-frequency flow noise. IDs differ by speed, pulse shape, pipe resonances and hum balance.
 */
export const pump: Machine = {
  type: 'pump',
  faults: ['leak', 'cavitation', 'clogging', 'bearing'],
  render(idRng, rng, n, sr, fault) {
    const vanes = 6;
    const shaft = 24.5 * idRng.uniform(0.975, 1.025);
    const width = idRng.uniform(0.2, 0.45);
    const pipe = Array.from({ length: 2 }, () => ({
      f: Math.exp(idRng.uniform(Math.log(300), Math.log(700))),
      q: idRng.uniform(3, 9),
      gain: idRng.uniform(0.4, 1),
    }));
    const hum = [1, idRng.uniform(0.2, 0.7), idRng.uniform(0.1, 0.4), idRng.uniform(0.05, 0.2)];
    const humLevel = db(idRng.uniform(-12, -4));
    const flowCut = idRng.uniform(400, 1200);
    const flowLevel = db(idRng.uniform(-6, 0));

    const s = fault?.severity ?? 0;
    let speed = shaft * (1 + 0.008 * rng.normal());
    let pulseJitter = 0.05;
    let flowGain = 1;
    if (fault?.kind === 'clogging') {
      // A clogged impeller pulses irregularly, runs slower and passes less flow.
      pulseJitter += 0.4 * s;
      speed *= 1 - 0.03 * s;
      flowGain = db(-4 * s);
    }
    const drift = wander(n, sr, rng, 0.003, 0.1, 0.97);
    const phase = phaseTrack(speed * vanes, drift, n, sr, rng.next());

    const cycles = Math.ceil((phase[n - 1] as number) - (phase[0] as number)) + 2;
    const pulseAmp = Float32Array.from({ length: cycles }, () => Math.max(0, 1 + pulseJitter * rng.normal()));
    const pulses = new Float32Array(n);
    const base = Math.floor(phase[0] as number);
    for (let i = 0; i < n; i++) {
      const p = phase[i] as number;
      const c = Math.floor(p);
      const u = p - c;
      if (u < width) pulses[i] = (pulseAmp[c - base] as number) * (0.5 - 0.5 * Math.cos((2 * Math.PI * u) / width));
    }
    const pulsation = resonate(pulses, pipe, sr);
    mixInto(pulsation, pulses, 0.3);

    const motor = new Float32Array(n);
    const linePhase = phaseTrack(100, null, n, sr, rng.next());
    addHarmonics(
      motor,
      linePhase,
      hum.map((a) => a * db(0.7 * rng.normal())),
      { f0: 100, sr },
    );

    const flow = filter(noise(n, rng), lowpass(flowCut, 0.7, sr));
    const flowEnv = wander(n, sr, rng, 0.15, 0.05, 0.9);
    for (let i = 0; i < n; i++) flow[i] *= flowEnv[i] as number;

    const core = new Float32Array(n);
    mixAtRms(core, pulsation, 1);
    mixAtRms(core, motor, humLevel);
    mixAtRms(core, flow, flowLevel * flowGain);
    const level = rms(core);
    if (fault?.kind === 'leak') addHiss(core, rng, sr, 0.5 * s * level);
    else if (fault?.kind === 'cavitation') addCrackle(core, rng, sr, rng.uniform(60, 400), 1.5 * s * level);
    else if (fault?.kind === 'bearing') addBearingFault(core, rng, sr, speed, 0.6 * s * level);
    return { sound: core, level };
  },
};
