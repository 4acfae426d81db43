import { fan } from './fan.js';
import { pump } from './pump.js';
import { slider } from './slider.js';
import { valve } from './valve.js';
import { toycar } from './toycar.js';
import { toyconveyor } from './toyconveyor.js';
import type { Machine } from './types.js';

export type { Machine, Fault } from './types.js';

/** The six DCASE 2020 Task 2 machine types (paper §2.4), in the dataset's directory names. */
export const MACHINES: ReadonlyMap<string, Machine> = new Map(
  [fan, pump, slider, valve, toycar, toyconveyor].map((m) => [m.type, m]),
);
export const MACHINE_TYPES: readonly string[] = [...MACHINES.keys()];
