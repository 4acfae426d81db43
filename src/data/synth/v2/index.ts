import { UserError } from '../../../util/errors.js';
import { db, mixClip } from '../dsp.js';
import type { Fault, Machine } from '../machines/types.js';
import { Rng, seedFrom } from '../../../random/index.js';
import { drawSeverity } from '../severity.js';
import type { ClipSpec, RenderedClip, SynthGenerator } from '../types.js';
import { backgroundV2 } from './background.js';
import { fanV2 } from './machines/fan.js';
import { pumpV2 } from './machines/pump.js';
import { sliderV2 } from './machines/slider.js';
import { toycarV2 } from './machines/toycar.js';
import { toyconveyorV2 } from './machines/toyconveyor.js';
import { valveV2 } from './machines/valve.js';

export const MACHINES_V2: ReadonlyMap<string, Machine> = new Map(
  [fanV2, pumpV2, sliderV2, valveV2, toycarV2, toyconveyorV2].map((m) => [m.type, m]),
);

/**
 * Typical SNR of each type's recordings (dB, machine vs background): MIMII was published at -6, 0
 * and 6 dB; ToyADMOS's toys are quiet next to the added factory noise, the conveyor most of all.
 */
const SITE_SNR: Readonly<Record<string, [number, number]>> = {
  fan: [0, 6],
  pump: [0, 6],
  slider: [0, 6],
  valve: [0, 6],
  ToyCar: [0, 5],
  ToyConveyor: [-4, 2],
};

/**
 * Version 2: IDs of a type are one machine model with small parameter offsets, faults move those
 * parameters beyond the offsets (graded by severity) and add their own sounds, and each clip
 * varies in load and in the kind and level of its background (docs/synthetic-data.md).
 */
function renderParametric(machines: ReadonlyMap<string, Machine>, spec: ClipSpec): RenderedClip {
  const machine = machines.get(spec.type);
  if (!machine)
    throw new UserError(
      `unknown synthetic machine type ${JSON.stringify(spec.type)}; expected one of ${[...machines.keys()].join(', ')}`,
    );
  const n = Math.round(spec.seconds * spec.sampleRate);
  const sr = spec.sampleRate;
  const idRng = new Rng(seedFrom(spec.seed, 'v2', 'id', spec.type, spec.machineId));
  const siteRng = new Rng(seedFrom(spec.seed, 'v2', 'site', spec.type));
  const placeRng = new Rng(seedFrom(spec.seed, 'v2', 'place', spec.type, spec.machineId));
  const rng = new Rng(seedFrom(spec.seed, 'v2', 'clip', spec.type, spec.machineId, spec.split, spec.label, spec.index));
  // The background's generator is the clip's own, separate from the machine's, so a fault never
  // changes which background a clip gets (severity comparisons stay paired).
  const bgRng = new Rng(
    seedFrom(spec.seed, 'v2', 'background', spec.type, spec.machineId, spec.split, spec.label, spec.index),
  );
  const fault: Fault | null = spec.label === 1 ? { kind: rng.pick(machine.faults), severity: drawSeverity(rng) } : null;
  const { sound, level } = machine.render(idRng, rng, n, sr, fault);

  const [lo, hi] = SITE_SNR[spec.type] ?? [0, 6];
  const snrDb = bgRng.uniform(lo, hi) + placeRng.uniform(-1, 1) + 1.5 * bgRng.normal();
  const bg = backgroundV2(siteRng, bgRng, n, sr);
  const gBg = db(-snrDb);
  // A fixed microphone: gain per type and ID, not per clip, so a fault's energy is not normalised
  // away; the background's level varies per clip through the SNR. About -36 dBFS for the machine
  // alone, near the real DCASE development clips (-40 dBFS, bench/real-compare.ts).
  const gain = 0.016 * siteRng.logNormal(0.3) * placeRng.logNormal(0.1);
  return { samples: mixClip(sound, gain / Math.max(level, 1e-9), bg, gain * gBg), fault, snrDb };
}

/**
 * A generator over parametric machine models (versions 2 and 3 differ only in their machines).
 * The per-clip seeds do not name the version, so the two versions' clips share IDs, loads and
 * backgrounds and differ where their machine models differ.
 */
export function parametricGenerator(version: number, machines: ReadonlyMap<string, Machine>): SynthGenerator {
  return {
    version,
    machines,
    perId: { ids: 3, train: 30, test: 100 },
    render: (spec) => renderParametric(machines, spec),
  };
}

export const generatorV2 = parametricGenerator(2, MACHINES_V2);
