import { UserError } from '../../util/errors.js';
import { background } from './background.js';
import { db, mixClip } from './dsp.js';
import { MACHINES, MACHINE_TYPES, type Fault } from './machines/index.js';
import { Rng, seedFrom } from '../../random/index.js';
import { drawSeverity } from './severity.js';
import type { ClipSpec, RenderedClip, SynthGenerator } from './types.js';

/**
 * Version 1 of the generator, kept byte-for-byte (runs stored without data.synthVersion used it):
 * each ID has its own speed and resonances, so IDs are easy to tell apart whether or not a clip
 * is anomalous. Superseded by version 2 as the default.
 */
function renderV1(spec: ClipSpec): RenderedClip {
  const machine = MACHINES.get(spec.type);
  if (!machine)
    throw new UserError(
      `unknown synthetic machine type ${JSON.stringify(spec.type)}; expected one of ${MACHINE_TYPES.join(', ')}`,
    );
  const n = Math.round(spec.seconds * spec.sampleRate);
  const sr = spec.sampleRate;
  const idRng = new Rng(seedFrom(spec.seed, 'id', spec.type, spec.machineId));
  // The recording site (background character, gain, typical SNR) belongs to the machine type, as
  // each type was recorded in one place; each ID sits a little differently in it.
  const siteRng = new Rng(seedFrom(spec.seed, 'site', spec.type));
  const placeRng = new Rng(seedFrom(spec.seed, 'place', spec.type, spec.machineId));
  const rng = new Rng(seedFrom(spec.seed, 'clip', spec.type, spec.machineId, spec.split, spec.label, spec.index));
  const fault: Fault | null = spec.label === 1 ? { kind: rng.pick(machine.faults), severity: drawSeverity(rng) } : null;

  const { sound, level } = machine.render(idRng, rng, n, sr, fault);
  // MIMII was published at -6, 0 and 6 dB SNR; each type here has its own typical SNR, each ID
  // and clip vary around it. SNR is relative to the machine's normal sound.
  const snrDb = siteRng.uniform(-1, 7) + placeRng.uniform(-1.5, 1.5) + rng.normal();
  const bg = background(siteRng, rng, n, sr);
  const gBg = db(-snrDb);
  // A fixed recording gain per type and ID (about -26 dBFS for a normal clip), not per-clip loudness
  // normalisation, which would hide the energy a fault adds.
  const gain = (0.05 * siteRng.logNormal(0.3) * placeRng.logNormal(0.1)) / Math.sqrt(1 + gBg * gBg);
  return { samples: mixClip(sound, gain / Math.max(level, 1e-9), bg, gain * gBg), fault, snrDb };
}

export const generatorV1: SynthGenerator = {
  version: 1,
  machines: MACHINES,
  perId: { ids: 3, train: 30, test: 20 },
  render: renderV1,
};
