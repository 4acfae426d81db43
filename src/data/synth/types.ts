import type { Fault, Machine } from './machines/types.js';

export interface ClipSpec {
  seed: number;
  type: string;
  machineId: string;
  split: 'train' | 'test';
  label: 0 | 1;
  index: number;
  seconds: number;
  sampleRate: number;
}

export interface RenderedClip {
  samples: Float32Array;
  fault: Fault | null;
  snrDb: number;
}

/** One version of the synthetic generator: its machine types and how one clip is rendered. */
export interface SynthGenerator {
  readonly version: number;
  readonly machines: ReadonlyMap<string, Machine>;
  /** Size of the built-in set per ID (normal training clips; test clips, half anomalous). */
  readonly perId: { ids: number; train: number; test: number };
  render(spec: ClipSpec): RenderedClip;
}
