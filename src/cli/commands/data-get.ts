import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { action } from '../action.js';
import { UserError, messageOf } from '../../util/errors.js';
import { bar } from '../../util/format.js';
import { ARCHIVES, DATASET_NAME, MACHINE_TYPES, PARTS, selectArchives, type Part } from '../../data/get/manifest.js';
import type { ArchiveOutcome, GetOptions, PlannedArchive } from '../../data/get/get.js';
import { parseMd5List } from '../../data/get/verify.js';
import { formatBytes } from '../../data/get/bytes.js';

export const DEFAULT_DATA_ROOT = join('runs', DATASET_NAME);

interface GetFlags {
  types: string[];
  part: Part;
  root: string;
  mirror?: string;
  checksums?: string;
  allowUnverified?: boolean;
  keepArchives?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

function parseTypes(value: string): string[] {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const unknown = types.filter((t) => !(MACHINE_TYPES as readonly string[]).includes(t));
  if (types.length === 0 || unknown.length > 0)
    throw new InvalidArgumentError(
      `--types expects a comma-separated list of ${MACHINE_TYPES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return [...new Set(types)];
}

function parseMirror(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      `--mirror / EXP_DATA_MIRROR expects an http:// or https:// URL, got ${JSON.stringify(value)}`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError(
      `--mirror / EXP_DATA_MIRROR expects an http:// or https:// URL, got ${JSON.stringify(value)}`,
    );
  return value;
}

function readChecksums(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--checksums ${file}: cannot read it (${messageOf(e)})`);
  }
  try {
    return parseMd5List(text, file);
  } catch (e) {
    throw new UserError(`--checksums ${messageOf(e)}`);
  }
}

const stateText = (p: PlannedArchive): string =>
  p.state === 'unpacked'
    ? 'already unpacked'
    : p.state === 'downloaded'
      ? 'downloaded, to verify and unpack'
      : p.state === 'partial'
        ? `partial: ${formatBytes(p.haveBytes)} on disk, resumes`
        : 'to download';
const sizeText = (p: PlannedArchive): string =>
  p.approxBytes === null ? 'size unknown' : `~${formatBytes(p.approxBytes)}`;

function printPlan(planned: readonly PlannedArchive[], root: string): void {
  const w = Math.max(...planned.map((p) => p.file.length));
  for (const p of planned)
    process.stderr.write(`${p.file.padEnd(w)}  ${sizeText(p).padEnd(12)}  ${stateText(p)}  ${p.url}\n`);
  const todo = planned.filter((p) => p.state !== 'unpacked');
  const known = todo.filter((p) => p.approxBytes !== null);
  const sum = known.reduce((s, p) => s + (p.approxBytes as number), 0);
  const unknown = todo.length - known.length;
  process.stderr.write(
    `${todo.length} of ${planned.length} archives to fetch into ${root}: ~${formatBytes(sum)}${unknown > 0 ? ` plus ${unknown} of unknown size` : ''} (sizes approximate)\n`,
  );
}

/** One line redrawn on a terminal; elsewhere a plain line every 10 %. */
function progressPrinter(tty: boolean): {
  start: (p: PlannedArchive, i: number, n: number) => void;
  progress: (have: number, total: number | null) => void;
  end: () => void;
} {
  let label = '';
  let lastStep = -1;
  let drawn = false;
  let lastDraw = 0;
  return {
    start(p, i, n) {
      label = `[${i + 1}/${n}] ${p.file}`;
      lastStep = -1;
      process.stderr.write(`exp: ${label} from ${p.url}\n`);
    },
    progress(have, total) {
      const frac = total ? have / total : null;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && have !== total) return;
        lastDraw = now;
        process.stderr.write(
          `\r${frac === null ? '' : `${bar(frac, 30)} ${(100 * frac).toFixed(1).padStart(5)} % `}${formatBytes(have)}${total ? ` of ${formatBytes(total)}` : ''}   `,
        );
        drawn = true;
        return;
      }
      const step = frac === null ? Math.floor(have / 100e6) : Math.floor(frac * 10);
      if (step === lastStep) return;
      lastStep = step;
      process.stderr.write(
        `exp: ${label}: ${formatBytes(have)}${total ? ` of ${formatBytes(total)} (${Math.round(100 * (frac as number))} %)` : ''}\n`,
      );
    },
    end() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

function mirrorFromEnv(): string | null {
  const value = process.env.EXP_DATA_MIRROR;
  if (!value) return null;
  try {
    return parseMirror(value);
  } catch (e) {
    throw new UserError(messageOf(e));
  }
}

async function run(dataset: string, flags: GetFlags): Promise<void> {
  if (dataset !== DATASET_NAME)
    throw new UserError(`unknown dataset ${JSON.stringify(dataset)}; exp data get knows: ${DATASET_NAME}`);
  // The unzipper and the WAV decoder are imported when the command runs, not when exp starts (src/cli/lazy.ts).
  const { checkVerifiable, getArchive, plan } = await import('../../data/get/get.js');
  const { checkUnpacked } = await import('../../data/get/check.js');
  const { formatSummary } = await import('../../data/summary.js');
  const { formatAudioProblems } = await import('../../data/audio-check.js');
  const mirror = flags.mirror ?? mirrorFromEnv();
  const opts: GetOptions = {
    root: flags.root,
    mirror: mirror ?? null,
    checksums: flags.checksums === undefined ? null : readChecksums(flags.checksums),
    allowUnverified: flags.allowUnverified === true,
    keepArchives: flags.keepArchives === true,
  };
  const planned = plan(selectArchives(ARCHIVES, flags.types, flags.part), opts);
  if (flags.dryRun) {
    printPlan(planned, opts.root);
    if (flags.json)
      process.stdout.write(`${JSON.stringify({ dataset, root: opts.root, dryRun: true, archives: planned })}\n`);
    return;
  }
  checkVerifiable(planned, opts.allowUnverified);
  const show = progressPrinter(process.stderr.isTTY === true && !flags.json);
  const outcomes: ArchiveOutcome[] = [];
  for (const [i, p] of planned.entries()) {
    show.start(p, i, planned.length);
    try {
      const o = await getArchive(p, opts, {
        onProgress: show.progress,
        onNote: (line) => {
          show.end();
          process.stderr.write(`exp: ${line}\n`);
        },
      });
      show.end();
      process.stderr.write(
        `exp: ${p.file}: ${o.status === 'already-unpacked' ? 'already unpacked, skipped' : `MD5 ${o.verified ? 'verified' : 'NOT verified'}, ${o.files} files unpacked into ${p.unpackTo}`}\n`,
      );
      outcomes.push(o);
    } finally {
      show.end();
    }
  }
  const devTypes = planned.filter((p) => p.kind === 'dev').map((p) => p.type);
  const evalTypes = [...new Set(planned.filter((p) => p.kind !== 'dev').map((p) => p.type))];
  const checked = checkUnpacked(opts.root, devTypes, evalTypes);
  if (checked.dev !== null && !flags.json) process.stderr.write(`${formatSummary(checked.dev)}\n`);
  if (flags.json)
    process.stdout.write(`${JSON.stringify({ dataset, root: opts.root, archives: outcomes, check: checked })}\n`);
  if (checked.problems.length > 0) {
    process.stderr.write(`${formatAudioProblems(checked.problems)}\n`);
    throw new UserError(
      `${checked.problems.length} unpacked clips under ${opts.root} cannot be used (listed above, one line each)`,
    );
  }
  process.stderr.write(
    `exp: ${opts.root} checked: ${checked.dev === null ? '' : `dev_data passes exp data check (${checked.dev.types.reduce((s, t) => s + t.train + t.testNormal + t.testAnomaly, 0)} clips)`}${checked.dev !== null && checked.evalClips > 0 ? '; ' : ''}${checked.evalClips > 0 ? `eval_data: ${checked.evalClips} clips decode` : ''}\n`,
  );
}

export function registerGet(data: Command): void {
  data
    .command('get')
    .description(
      'download, verify (MD5) and unpack the official DCASE 2020 Task 2 archives, then check them as exp data check does',
    )
    .argument('<dataset>', `the dataset (${DATASET_NAME})`)
    .addOption(
      new Option('--types <a,b>', `machine types, comma-separated (${MACHINE_TYPES.join(',')})`)
        .argParser(parseTypes)
        .default([...MACHINE_TYPES], 'all six'),
    )
    .addOption(
      new Option('--part <part>', 'dev = development set; eval = additional training + evaluation test clips')
        .choices([...PARTS])
        .default('dev'),
    )
    .option(
      '--root <dir>',
      'where archives are downloaded (<root>/downloads) and unpacked (<root>/dev_data, <root>/eval_data)',
      DEFAULT_DATA_ROOT,
    )
    .option(
      '--mirror <url>',
      'a copy holding the same file names (<url>/<file>); default $EXP_DATA_MIRROR, else Zenodo',
      parseMirror,
    )
    .option(
      '--checksums <file>',
      'an md5sum list used instead of the published checksums (for a repackaged copy); files not listed are unverified',
    )
    .option('--allow-unverified', 'unpack an archive that has no known checksum (it is reported as unverified)')
    .option('--keep-archives', 'keep each .zip after unpacking it (default: delete it once unpacked)')
    .option('--dry-run', 'list what would be downloaded, with sizes and what is already on disk; download nothing')
    .option('--json', 'print one JSON document (what was fetched and the check) on stdout')
    .action(action((dataset: string, flags: GetFlags) => run(dataset, flags)));
}
