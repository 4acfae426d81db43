import { addImpact, bandpass, db, filter, highpass, noise, rms, type Mode } from '../dsp.js';
import { addHiss } from '../faults.js';
import type { Machine } from './types.js';

/**
 * Solenoid valve (MIMII "valve"): a repeating open/close pattern; each switch is a sharp click
 * (high plunger modes) with a low thump, and gas hisses softly while the valve is open. Mostly
 * quiet, so the background matters a lot, as in the real recordings. IDs differ by the pattern's
 * timing, click modes and hiss colour.
 */
export const valve: Machine = {
  type: 'valve',
  faults: ['contamination', 'leak', 'timing', 'sticking'],
  render(idRng, rng, n, sr, fault) {
    const period = idRng.uniform(1.2, 2.2);
    const openFor = idRng.uniform(0.25, 0.6);
    const click: Mode[] = Array.from({ length: 3 }, () => ({
      f: Math.exp(idRng.uniform(Math.log(2500), Math.log(4000))),
      decay: idRng.uniform(0.002, 0.008),
      gain: idRng.uniform(0.4, 1),
    }));
    click.push({ f: idRng.uniform(120, 300), decay: 0.015, gain: idRng.uniform(0.3, 0.6) });
    const closeGain = idRng.uniform(0.5, 0.9);
    const hissBand = bandpass(idRng.uniform(2500, 5000), idRng.uniform(1, 2), sr);
    const hissLevel = db(idRng.uniform(-34, -26));

    const s = fault?.severity ?? 0;
    const kind = fault?.kind;
    const clipPeriod = period * (1 + 0.02 * rng.normal());
    // Contamination: the plunger bounces (a second, weaker click) and its modes are damped.
    const bounce = kind === 'contamination' ? s : 0;
    const modes =
      kind === 'contamination'
        ? click.map((m) => ({ ...m, f: m.f * (1 - 0.08 * s), decay: m.decay * (1 - 0.4 * s) }))
        : click;

    const core = new Float32Array(n);
    const open = new Float32Array(n);
    let t = -rng.uniform(0, clipPeriod) * sr;
    while (t < n) {
      let dur = openFor * clipPeriod * sr * (1 + 0.03 * rng.normal());
      if (kind === 'sticking' && rng.chance(0.4 + 0.6 * s)) dur *= 1 + rng.uniform(0.1, 0.5) * s;
      const skip = kind === 'timing' && rng.chance(0.2 + 0.5 * s);
      const which = rng.next();
      for (const [at, g, isOpen] of [
        [t, 1, true],
        [t + dur, closeGain, false],
      ] as const) {
        if (skip && which < 0.5 === isOpen) continue; // a missing open or close click
        if (at < 0 || at >= n) continue;
        addImpact(core, at, g * db(1.2 * rng.normal()), modes, sr);
        if (bounce > 0 && rng.chance(0.5 + 0.5 * s))
          addImpact(core, at + sr * rng.uniform(0.003, 0.012), g * rng.uniform(0.4, 1) * bounce, modes, sr);
      }
      if (kind === 'timing' && rng.chance(0.3 * s)) {
        const extra = t + dur + rng.uniform(0.1, 0.4) * clipPeriod * sr;
        if (extra >= 0 && extra < n) addImpact(core, extra, rng.uniform(0.4, 1), modes, sr);
      }
      for (let i = Math.max(0, Math.ceil(t)); i < Math.min(n, t + dur); i++) open[i] = 1;
      t += clipPeriod * sr * (1 + 0.02 * rng.normal());
    }
    // Smooth the open/closed gate (~5 ms) so the hiss fades in and out.
    filter(open, bandpass(1, 0.5, sr));
    const hiss = filter(filter(noise(n, rng), highpass(1500, 0.7, sr)), hissBand);
    for (let i = 0; i < n; i++)
      core[i] += hissLevel * 3 * Math.min(1, Math.abs((open[i] as number) * 2)) * (hiss[i] as number);
    const level = rms(core);
    if (kind === 'leak') addHiss(core, rng, sr, 2 * s * level);
    return { sound: core, level };
  },
};
