import type { Rng } from '../../../random/index.js';

/**
 * Version 2's machine models are explicit parameter sets. Every unit of a type (an ID) is the
 * same model with small offsets; every clip of an ID varies a little around the ID's values
 * (operating load, drift); a fault moves the same parameters further than the IDs differ from
 * each other. `log` parameters are multiplicative (speeds, frequencies, periods), `lin` ones
 * additive (levels in dB, depths).
 */
export interface Param {
  nominal: number;
  /** Spread between IDs of the type (sd: relative for log, absolute for lin). */
  id: number;
  /** Spread between clips of one ID, in the same units. */
  clip: number;
  scale?: 'log' | 'lin';
}

export type ParamSpec<K extends string> = Readonly<Record<K, Param>>;
export type Values<K extends string> = Record<K, number>;

function move(p: Param, value: number, sds: number): number {
  return p.scale === 'lin' ? value + sds : value * Math.exp(sds);
}

/** The ID's values, drawn in the spec's key order from the ID's generator. */
export function drawId<K extends string>(spec: ParamSpec<K>, idRng: Rng): Values<K> {
  const out = {} as Values<K>;
  for (const k of Object.keys(spec) as K[]) out[k] = move(spec[k], spec[k].nominal, spec[k].id * idRng.normal());
  return out;
}

/** One clip's values around the ID's. */
export function drawClip<K extends string>(spec: ParamSpec<K>, id: Values<K>, rng: Rng): Values<K> {
  const out = {} as Values<K>;
  for (const k of Object.keys(spec) as K[]) out[k] = move(spec[k], id[k], spec[k].clip * rng.normal());
  return out;
}

/**
 * Where a render of versions 2 and 3 starts: the unit's values (from the ID's generator), this
 * clip's values around them (from the clip's), and the fault's kind, severity s (0 for a normal
 * clip) and spread factor k = faultSpreads(s). A machine's own ID draws (drawVector) follow it.
 */
export function drawForClip<K extends string>(
  spec: ParamSpec<K>,
  idRng: Rng,
  rng: Rng,
  fault: { kind: string; severity: number } | null,
): { v: Values<K>; s: number; kind: string | undefined; k: number } {
  const v = drawClip(spec, drawId(spec, idRng), rng);
  const s = fault?.severity ?? 0;
  return { v, s, kind: fault?.kind, k: faultSpreads(s) };
}

/**
 * How far a fault of severity s in (0, 1] moves a parameter, in between-ID spreads: from about
 * 1.5 spreads (just outside the family of IDs) to 4.5 (clearly another machine state).
 */
export function faultSpreads(severity: number): number {
  return 1.2 + 3.3 * severity;
}

/** Moves `keys` of `values` in place by faultSpreads(s) ID spreads, each in a random direction unless `dir` is given. */
export function perturb<K extends string>(
  spec: ParamSpec<K>,
  values: Values<K>,
  keys: readonly K[],
  s: number,
  rng: Rng,
  dir?: 1 | -1,
): void {
  for (const k of keys) {
    const d = dir ?? (rng.chance(0.5) ? 1 : -1);
    values[k] = move(spec[k], values[k], d * faultSpreads(s) * spec[k].id);
  }
}

/** n values (e.g. partial levels in dB) as one ID draw + clip jitter each. */
export function drawVector(
  n: number,
  idSd: number,
  clipSd: number,
  idRng: Rng,
): { id: number[]; clip(rng: Rng): number[] } {
  const id = Array.from({ length: n }, () => idSd * idRng.normal());
  return { id, clip: (rng) => id.map((v) => v + clipSd * rng.normal()) };
}

/**
 * Version 3: the ID-signature parameters a fault kind moves besides (or instead of) what it did
 * in version 2, each with a direction when physics gives one (friction slows a shaft). A fault
 * that only adds its own sound leaves the signature that tells the units apart untouched, and a
 * classifier of machine IDs cannot see it; on real machines a worn bearing or a leak also
 * changes speed, load and resonances.
 */
export type FaultShifts<K extends string> = Readonly<Record<string, ReadonlyArray<readonly [K, (1 | -1)?]>>>;

/** Moves the parameters `shifts` lists for this clip's fault by faultSpreads(severity) ID spreads. */
export function applyShifts<K extends string>(
  spec: ParamSpec<K>,
  values: Values<K>,
  shifts: FaultShifts<K>,
  fault: { kind: string; severity: number } | null,
  rng: Rng,
): void {
  for (const [k, dir] of (fault && shifts[fault.kind]) || []) perturb(spec, values, [k], fault!.severity, rng, dir);
}

/** A copy of `spec` with some nominal values replaced. */
export function withNominal<K extends string>(spec: ParamSpec<K>, nominal: Partial<Record<K, number>>): ParamSpec<K> {
  const out = { ...spec } as Record<K, Param>;
  for (const [k, v] of Object.entries(nominal) as Array<[K, number]>) out[k] = { ...spec[k], nominal: v };
  return out;
}
