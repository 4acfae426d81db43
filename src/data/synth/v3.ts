import type { Machine } from './machines/types.js';
import { fanV3 } from './v2/machines/fan.js';
import { pumpV3 } from './v2/machines/pump.js';
import { sliderV3 } from './v2/machines/slider.js';
import { toycarV3 } from './v2/machines/toycar.js';
import { toyconveyorV3 } from './v2/machines/toyconveyor.js';
import { valveV3 } from './v2/machines/valve.js';
import { parametricGenerator } from './v2/index.js';

/**
 * Version 3 (the default): version 2's machine models, with every fault kind moving the
 * parameters that tell a type's units apart (not only adding its own sound), and the slider's
 * and valve's patterns repeating often enough to be seen in a 2 s clip (docs/synthetic-data.md).
 */
export const MACHINES_V3: ReadonlyMap<string, Machine> = new Map(
  [fanV3, pumpV3, sliderV3, valveV3, toycarV3, toyconveyorV3].map((m) => [m.type, m]),
);

export const generatorV3 = parametricGenerator(3, MACHINES_V3);
