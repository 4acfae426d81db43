import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlurmJobOptions } from './options.js';
import { ensureDir } from '../util/dirs.js';
import { UserError } from '../util/errors.js';
import { describeFsError } from '../util/fs-errors.js';

/**
 * The Slurm side of `exp sweep --executor slurm`: one job array whose tasks each run `exp worker`
 * (submitted with sbatch), its state (squeue), and its end (scancel). Slurm is driven through its
 * own commands only, so whatever the lab configured (accounts, QOS, SLURM_CONF) applies.
 */

export interface ArraySubmission {
  /** The worker's command line: absolute paths, since a job starts in a fresh shell on another node. */
  command: string[];
  tasks: number;
  concurrency: number;
  jobName: string;
  /** Where the batch script and the tasks' logs go (`<dir>/<job>_<task>.out`): a shared directory. */
  dir: string;
  options: SlurmJobOptions;
  /** Requeue on node failure, and SIGUSR1 this many seconds before the time limit (the worker requeues itself). */
  requeueSignalSeconds: number | null;
  /** Added to sbatch's environment, which the job inherits: how a password reaches the workers off their command line. */
  env?: Record<string, string>;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function slurm(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new UserError(
      `${cmd}: not found; --executor slurm needs Slurm's commands (sbatch, squeue, scancel) on this host`,
    );
  // Slurm's messages often span lines; a user error is one line.
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '')
      .trim()
      .split(/\s*\n\s*/)
      .join('; '),
  };
}

export function sbatchArgs(s: ArraySubmission, script: string): string[] {
  const o = s.options;
  return [
    '--parsable',
    `--job-name=${s.jobName}`,
    `--array=0-${s.tasks - 1}%${s.concurrency}`,
    `--output=${join(s.dir, '%A_%a.out')}`,
    // A requeued task appends to its log instead of truncating it.
    '--open-mode=append',
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.time ? [`--time=${o.time}`] : []),
    ...(o.gres ? [`--gres=${o.gres}`] : []),
    ...(o.cpusPerTask ? [`--cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.mem ? [`--mem=${o.mem}`] : []),
    ...(s.requeueSignalSeconds !== null ? ['--requeue', `--signal=B:USR1@${s.requeueSignalSeconds}`] : []),
    ...o.extra,
    script,
  ];
}

/** Writes the batch script and submits the array; returns the job id. */
export function submitArray(s: ArraySubmission): string {
  ensureDir(s.dir, 'the Slurm log directory');
  const script = join(s.dir, `${s.jobName}-${Date.now()}.sh`);
  try {
    // exec: the worker is the batch shell itself, so Slurm's SIGTERM (scancel, time limit) reaches it.
    writeFileSync(
      script,
      `#!/bin/sh\n# written by exp sweep --executor slurm\nexec ${s.command.map(quote).join(' ')}\n`,
    );
    // No password in it (the store URL is passed without one), but it is the user's: readable by its owner only.
    chmodSync(script, 0o700);
  } catch (e) {
    // A shared filesystem gone read-only or full: nothing was submitted.
    throw new UserError(`cannot write the batch script ${script}: ${describeFsError(e)}; nothing was submitted`);
  }
  const r = slurm('sbatch', sbatchArgs(s, script), s.env);
  if (r.status !== 0)
    throw new UserError(`sbatch refused the job array: ${r.stderr || `exit ${r.status}`} (script ${script})`);
  const id = r.stdout.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new UserError(`sbatch printed no job id (got ${JSON.stringify(r.stdout.trim())})`);
  return id;
}

export function cancelJob(jobId: string): void {
  const r = slurm('scancel', [jobId]);
  if (r.status !== 0) throw new UserError(`scancel ${jobId} failed: ${r.stderr || `exit ${r.status}`}`);
}
