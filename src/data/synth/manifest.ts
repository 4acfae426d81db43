import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { UserError } from '../../util/errors.js';

/**
 * Reading `synth.json`, the built-in set's record of which fault (kind, severity, SNR) each test
 * clip carries. Only the fields a per-fault analysis needs are required; others (a newer
 * generator's) pass through, so a report reads old and new sets alike.
 */
const ManifestClip = z.looseObject({
  file: z.string(),
  label: z.union([z.literal(0), z.literal(1)]),
  fault: z.string().nullable(),
  severity: z.number().nullable(),
  snrDb: z.number().nullable().optional(),
});
const Manifest = z.looseObject({ generator: z.number(), test: z.array(ManifestClip) });

export type ManifestClip = z.infer<typeof ManifestClip>;

export interface LoadedManifest {
  /** The synth.json read. */
  file: string;
  generator: number;
  /** Test clips by their path relative to the set's root, with `/` separators. */
  clips: Map<string, ManifestClip>;
}

export function readSynthManifest(file: string): LoadedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not readable as JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const clips = new Map(parsed.data.test.map((c) => [c.file.split(/[\\/]/).join('/'), c]));
  return { file, generator: parsed.data.generator, clips };
}

/**
 * The synth.json of the set a test clip belongs to: the DCASE layout puts clips at
 * `<root>/<type>/test/<name>.wav`, so the manifest is three levels up. Null when there is none
 * (a real DCASE root, or a set generated elsewhere).
 */
export function findSynthManifest(clipPath: string): string | null {
  const file = join(dirname(dirname(dirname(clipPath))), 'synth.json');
  return existsSync(file) ? file : null;
}

/** A clip's key in the manifest: its path relative to the set's root. */
export function manifestKey(manifestFile: string, clipPath: string): string {
  return relative(dirname(manifestFile), clipPath).split(sep).join('/');
}
