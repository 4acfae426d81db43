import { UserError } from '../../util/errors.js';
import { MACHINE_TYPES } from './machines/index.js';
import type { SynthGenerator } from './types.js';
import { generatorV1 } from './v1.js';
import { generatorV2 } from './v2/index.js';
import { generatorV3 } from './v3.js';

/*
 * The generator versions and their default sets, apart from the writing of a set (generate.ts,
 * which re-exports them): `exp data synth --help` names them without loading the WAV encoder.
 */

/** Every generator version ever shipped, each kept reproducible byte-for-byte. */
export const GENERATORS: ReadonlyMap<number, SynthGenerator> = new Map(
  [generatorV1, generatorV2, generatorV3].map((g) => [g.version, g]),
);
export const GENERATOR_VERSIONS: readonly number[] = [...GENERATORS.keys()];
/**
 * The default version (data.synthVersion's default). A released version's output never changes:
 * cached sets are named by version and options only, so a change gets a new version number.
 */
export const GENERATOR_VERSION = 3;

export interface SynthOptions {
  /** Output root; receives <type>/train and <type>/test like DCASE 2020 Task 2. */
  out: string;
  /** Generator version (default GENERATOR_VERSION). */
  version?: number;
  seed: number;
  types: string[];
  /** Machine IDs per type: id_00, id_02, id_04, ... */
  ids: number;
  /** Normal training clips per ID. */
  train: number;
  /** Test clips per ID: ceil(test / 2) normal, floor(test / 2) anomalous. */
  test: number;
  seconds: number;
  sampleRate: number;
}

export function generatorFor(version: number): SynthGenerator {
  const g = GENERATORS.get(version);
  if (!g)
    throw new UserError(
      `synthetic data: unknown generator version ${JSON.stringify(version)}; expected one of ${GENERATOR_VERSIONS.join(', ')}`,
    );
  return g;
}

/** The built-in set of a generator version, which the main job uses when data.root is null. */
export function defaultSynthOptions(version = GENERATOR_VERSION): Readonly<Omit<SynthOptions, 'out' | 'version'>> {
  return Object.freeze({
    seed: 0,
    types: [...MACHINE_TYPES],
    ...generatorFor(version).perId,
    seconds: 10,
    sampleRate: 16000,
  });
}

/** The built-in set of the default version (3 IDs x 6 types; 30 training, 100 test clips per ID). */
export const DEFAULT_SYNTH_OPTIONS: Readonly<Omit<SynthOptions, 'out' | 'version'>> = defaultSynthOptions();
