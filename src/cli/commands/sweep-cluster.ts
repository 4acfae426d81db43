import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSweepName, resolveSweepFile, sweepRecord, type ExpandedSweep } from '../../sweep/spec.js';
import { SlurmJobOptions } from '../../executor/options.js';
import type { SweepExecutor } from '../../executor/executor.js';
import { cancelJob, submitArray } from '../../executor/slurm.js';
import {
  activeOf,
  blockedReason,
  describeEnd,
  faultsOf,
  meaningOf,
  taskStates,
  type TaskState,
} from '../../executor/slurm-states.js';
import { pidAlive } from '../../store/stale.js';
import { follow, followState, poll, type FollowEnd } from '../../executor/follow.js';
import { isPostgresUrl, openRunStore } from '../../store/open.js';
import { DEFAULT_STALE_SECONDS } from '../../store/db.js';
import type { RunStore } from '../../store/run-store.js';
import type { RecordedSweep, SweepJob } from '../../store/sweep-jobs.js';
import type { SweepStateStore, TrialView } from '../../sweep/state.js';
import { interruptOnSignals } from '../../session/signals.js';
import { AdaptiveRunner } from '../../sweep/search/runner.js';
import { attachPlainProgress } from '../../dashboard/plain.js';
import { formatSweepStatus } from '../../dashboard/status.js';
import { formatIssues } from '../../config/load.js';
import { UserError, messageOf } from '../../util/errors.js';
import { checkRunDirRoot } from '../run-dirs.js';
import { dbFlag, maskPassword } from '../../util/db-location.js';
import { passwordOf, withoutPassword } from '../../util/secrets.js';
import type { SweepSelection } from '../options.js';

/**
 * `exp sweep X --executor slurm` (submit one job array of `exp worker` tasks and follow the sweep
 * from the store), `exp sweep X --attach`, `exp sweep status X` and `exp sweep cancel X`.
 */

export interface ClusterSweepOptions extends SweepSelection {
  concurrency: number | 'auto';
  dashboard: boolean;
  rerunFailed: boolean;
  force: boolean;
  detach?: boolean;
  requeue?: boolean;
  lease?: number;
  resubmit?: number;
  partition?: string;
  time?: string;
  gres?: string;
  cpusPerTask?: number;
  mem?: string;
  sbatch?: string[];
}

/** The built CLI every task runs (a job starts in a fresh shell: absolute paths only). */
const builtCli = (): string =>
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'cli', 'main.js');

export function requireSharedStore(db: string): void {
  if (!isPostgresUrl(db)) {
    throw new UserError(
      `--executor slurm needs a store every node can reach: --db postgres://... (or EXP_DB), got ${JSON.stringify(maskPassword(db))} (a SQLite file must not be shared between hosts)`,
    );
  }
}

/** sbatch options: the sweep YAML's executor.slurm, then the flags. */
function jobOptions(sweep: ExpandedSweep, o: ClusterSweepOptions): SlurmJobOptions {
  const fromYaml = sweep.spec.executor?.slurm ?? { extra: [] };
  const merged = {
    ...fromYaml,
    ...(o.partition ? { partition: o.partition } : {}),
    ...(o.time ? { time: o.time } : {}),
    ...(o.gres ? { gres: o.gres } : {}),
    ...(o.cpusPerTask ? { cpusPerTask: o.cpusPerTask } : {}),
    ...(o.mem ? { mem: o.mem } : {}),
    extra: [...(fromYaml.extra ?? []), ...(o.sbatch ?? [])],
  };
  const parsed = SlurmJobOptions.safeParse(merged);
  if (!parsed.success) throw new UserError(formatIssues(`${sweep.file} executor.slurm (with the flags)`, parsed.error));
  return parsed.data;
}

/**
 * The worker's command line: visible to every user of the node (ps) and written to the batch
 * script, so the store URL goes without its password; the password reaches the worker in its
 * environment (see workerEnv).
 */
function workerCommand(sweep: ExpandedSweep, o: ClusterSweepOptions, artifacts: string, lease: number): string[] {
  return [
    process.execPath,
    builtCli(),
    'worker',
    '--sweep',
    sweep.file,
    '--db',
    withoutPassword(o.db),
    '--artifacts',
    artifacts,
    '--backend',
    o.backend,
    '--lease',
    String(lease),
    ...(o.profile ? ['--profile', o.profile] : []),
    ...(o.seeds ? ['--seeds', o.seeds.join(',')] : []),
    ...o.set.flatMap((s) => ['--set', s]),
    ...(o.maxTrials ? ['--max-trials', String(o.maxTrials)] : []),
    // Absolute: the task starts in another directory; each worker checks the file's hash against the trials'.
    ...(o.plugin ?? []).flatMap((p) => ['--plugin', resolve(p)]),
    ...(o.requeue ? ['--requeue'] : []),
  ];
}

/**
 * A password given in the URL is passed to sbatch as PGPASSWORD, which libpq and node-postgres
 * read when the URL has none; sbatch hands its environment to the job (its default --export=ALL).
 * The environment of a process is readable by its owner only, unlike its command line.
 */
function workerEnv(db: string): Record<string, string> {
  const password = passwordOf(db);
  return password === null ? {} : { PGPASSWORD: password };
}

/** The sweep's Slurm jobs not cancelled through exp, each with its tasks as Slurm reports them now. */
async function slurmJobs(store: RunStore, sweep: string): Promise<Array<{ job: SweepJob; tasks: TaskState[] }>> {
  return (await store.sweepJobs(sweep))
    .filter((j) => j.state === 'submitted' && j.executor === 'slurm')
    .map((job) => ({ job, tasks: taskStates(job.jobId) }));
}

/**
 * Once none of the sweep's jobs is queued or running, a trial row still 'running' has no worker
 * left, unless one started by hand elsewhere still beats: a row silent for three heartbeats (or
 * whose process is gone from this host) was held by a task Slurm ended without the worker
 * noticing (killed for memory, SIGKILL after the kill wait, a node lost). It becomes interrupted
 * with how the tasks ended, so it shows why and is resumable at once.
 */
async function endLostRuns(store: RunStore, sweep: string, ended: TaskState[], lease: number): Promise<void> {
  const faults = faultsOf(ended);
  const why = describeEnd(faults.length > 0 ? faults : ended);
  const quietMs = Math.min(30_000, lease * 1000);
  for (const p of await store.sweepProgress(sweep)) {
    if (p.status !== 'running') continue;
    const gone = p.host === hostname() && (p.pid === null || !pidAlive(p.pid));
    if (!gone && p.heartbeatAt !== null && Date.now() - p.heartbeatAt < quietMs) continue;
    await store.endLostRun(
      p.runId,
      p.heartbeatAt,
      `interrupted: its worker's Slurm task ended (${why || 'no longer known to Slurm'}); resumable from its last checkpoint`,
    );
  }
}

/** Says (once per reason) why the sweep's tasks wait when the cluster holds them: nodes drained or down. */
function blockedNotice(): (jobs: Array<{ job: SweepJob; tasks: TaskState[] }>, sweep: string) => void {
  let said: string | null = null;
  return (jobs, sweep) => {
    const blocked = jobs.map((j) => ({ id: j.job.jobId, why: blockedReason(j.tasks) })).find((j) => j.why !== null);
    const line = blocked ? `Slurm job ${blocked.id}: ${blocked.why}` : null;
    if (line !== null && line !== said)
      process.stderr.write(
        `exp: ${line}; the sweep waits until they can start (Ctrl-C stops following; exp sweep cancel ${sweep} stops the jobs)\n`,
      );
    said = line;
  };
}

/**
 * Whether the unfinished trials are submitted again after the sweep's last job ended, and if not,
 * the one line that says why: a cancel (scancel) or a fault another try would repeat (memory).
 */
function whyNotResubmit(last: { job: SweepJob; tasks: TaskState[] } | undefined): string | null {
  if (!last) return null;
  const faults = faultsOf(last.tasks);
  const stop = faults.find((t) => !meaningOf(t.state).resubmit);
  if (!stop) return null;
  const hint =
    stop.state === 'OUT_OF_MEMORY'
      ? 'give the tasks more memory (--mem) and run the same exp sweep again to resume'
      : 'run the same exp sweep again to resume';
  return `Slurm job ${last.job.jobId} ended: ${describeEnd(last.tasks)}; not submitted again; ${hint}`;
}

/** `exp sweep X --executor slurm`: one job array of `exp worker` tasks, followed from the shared store. */
export const slurmExecutor: SweepExecutor<ClusterSweepOptions> = {
  name: 'slurm',
  check: (o) => {
    requireSharedStore(o.db);
    if (o.force || o.rerunFailed)
      throw new UserError(
        '--force and --rerun-failed are not supported with --executor slurm yet; run them with --executor local against the same --db',
      );
  },
  run: slurmSweep,
};

/**
 * The job array's throttle (sbatch --array=...%N; an adaptive sweep: its worker tasks): --concurrency
 * N; `auto` keeps one task at a time, as before `auto` existed: on a shared cluster the cores are
 * the scheduler's to hand out (--cpus-per-task), and how many of a user's tasks may run at once
 * is a choice about the other users, which exp cannot see.
 */
export function arrayThrottle(concurrency: number | 'auto'): number {
  return concurrency === 'auto' ? 1 : concurrency;
}

/** Submits and follows the sweep (validated and preflighted already; slurmExecutor.check passed). */
async function slurmSweep(sweep: ExpandedSweep, o: ClusterSweepOptions): Promise<void> {
  const throttle = arrayThrottle(o.concurrency);
  const options = jobOptions(sweep, o);
  const lease = o.lease ?? DEFAULT_STALE_SECONDS;
  const artifacts = resolve(o.artifacts ?? 'runs');
  const store = await openRunStore(o.db, { artifacts, staleSeconds: lease });
  try {
    await store.registerSweep(sweepRecord(sweep));
    const recorded = (await store.recordedSweep(sweep.name))!;
    const submit = async (count: number): Promise<SweepJob> => {
      const job: SweepJob = {
        sweep: sweep.name,
        executor: 'slurm',
        tasks: count,
        concurrency: Math.min(throttle, count),
        state: 'submitted',
        host: hostname(),
        submittedAt: new Date().toISOString(),
        jobId: '',
      };
      // A shared filesystem gone read-only (or full) since the sweep started: every task would fail at once.
      try {
        checkRunDirRoot(o.db, artifacts);
      } catch (e) {
        throw new UserError(
          `${messageOf(e)}; nothing was submitted; the ${count} unfinished trial(s) keep their checkpoints: make it writable and run the same exp sweep again`,
        );
      }
      job.jobId = submitArray({
        command: workerCommand(sweep, o, artifacts, lease),
        tasks: count,
        concurrency: job.concurrency,
        jobName: `exp-${sweep.name}`,
        dir: join(artifacts, 'slurm'),
        options,
        requeueSignalSeconds: o.requeue ? 120 : null,
        env: workerEnv(o.db),
      });
      await store.recordJob(job);
      process.stderr.write(
        `exp: submitted Slurm job ${job.jobId}: ${count} task(s) of exp worker, at most ${job.concurrency} at once; logs in ${join(artifacts, 'slurm')}\n`,
      );
      return job;
    };
    const jobs = await slurmJobs(store, sweep.name);
    const running = jobs.filter((j) => activeOf(j.tasks).length > 0).map((j) => j.job);
    // A job that ended while nobody followed it (--detach) may have left rows of dead tasks running.
    if (running.length === 0 && jobs.length > 0) await endLostRuns(store, sweep.name, jobs.at(-1)!.tasks, lease);
    const state = followState(recorded, throttle, o.db);
    const todo = await poll(store, recorded, state, lease);
    // An adaptive sweep's trials are sampled as it goes: `concurrency` workers, each until nothing is left.
    const complete = sweep.search ? adaptiveComplete(sweep, store, lease) : undefined;
    const tasks = (unfinished: TrialView[]) =>
      complete ? throttle : unfinished.filter((t) => t.status !== 'running').length;
    if (running.length > 0)
      process.stderr.write(
        `exp: Slurm job ${running.map((j) => j.jobId).join(', ')} of sweep ${sweep.name} is still running; following it instead of submitting another\n`,
      );
    else if (complete ? !(await complete()) : tasks(todo) > 0) await submit(tasks(todo));
    if (o.detach) {
      process.stderr.write(
        `exp: detached; follow it with: exp sweep ${sweep.name} --attach${dbFlag(o.db)}   stop it with: exp sweep cancel ${sweep.name}${dbFlag(o.db)}\n`,
      );
      return;
    }
    let rounds = 0;
    let stopLine: string | null = null;
    const end = await show(
      store,
      recorded,
      state,
      o,
      lease,
      async (unfinished) => {
        const last = (await slurmJobs(store, sweep.name)).at(-1);
        stopLine = whyNotResubmit(last);
        if (stopLine !== null) return false;
        if (rounds >= (o.resubmit ?? 2)) {
          if (last && faultsOf(last.tasks).length > 0)
            stopLine = `Slurm job ${last.job.jobId} ended: ${describeEnd(last.tasks)}; submitted again ${rounds} time(s), as --resubmit allows; run the same exp sweep again to resume`;
          return false;
        }
        rounds++;
        state.update(
          (s) => ({
            ...s,
            message: `the job ended with ${unfinished.length} trial(s) unfinished; submitting again (${rounds}/${o.resubmit ?? 2})`,
          }),
          true,
        );
        await submit(complete ? throttle : unfinished.length);
        return true;
      },
      complete,
    );
    finish(end, recorded, state, o.db, stopLine);
  } finally {
    await store.close();
  }
}

/** Dashboard or plain lines while following; Ctrl-C stops following only (the jobs go on). */
async function show(
  store: RunStore,
  sweep: RecordedSweep,
  state: SweepStateStore,
  o: { dashboard: boolean },
  lease: number,
  resubmit: (u: TrialView[]) => Promise<boolean>,
  complete?: () => Promise<boolean>,
): Promise<FollowEnd> {
  const live = o.dashboard && process.stdout.isTTY === true && process.env.CI === undefined;
  // ink and react are imported only for the live dashboard (a terminal), not for plain progress lines.
  const dashboard = live ? (await import('../../dashboard/render.js')).renderSweepDashboard(state) : null;
  const detachPlain = live ? () => {} : attachPlainProgress(state, (line) => process.stderr.write(`${line}\n`));
  const signals = interruptOnSignals({ onSecond: () => undefined });
  const notice = blockedNotice();
  try {
    return await follow({
      store,
      sweep,
      state,
      leaseSeconds: lease,
      pollMs: Number(process.env.EXP_FOLLOW_POLL_MS ?? 1000),
      signal: signals.signal,
      jobActive: async () => {
        const jobs = await slurmJobs(store, sweep.name);
        const active = jobs.some((j) => activeOf(j.tasks).length > 0);
        if (active) notice(jobs, sweep.name);
        else if (jobs.length > 0) await endLostRuns(store, sweep.name, jobs.at(-1)!.tasks, lease);
        return active;
      },
      cancelled: async () => (await store.sweepJobs(sweep.name)).at(-1)?.state === 'cancelled',
      resubmit,
      ...(complete ? { complete } : {}),
    });
  } finally {
    signals.dispose();
    state.update((s) => ({ ...s, finished: true }), true);
    await dashboard?.close();
    detachPlain();
  }
}

function finish(
  end: FollowEnd,
  sweep: RecordedSweep,
  state: SweepStateStore,
  db: string,
  stopLine: string | null = null,
): void {
  const trials = state.get().trials;
  const count = (s: string) => trials.filter((t) => t.status === s).length;
  process.stderr.write(`\n${formatSweepStatus(state.get())}\n`);
  const tail = `sweep ${sweep.name}: ${count('done')} done, ${count('failed')} failed, ${trials.length - count('done') - count('failed')} unfinished`;
  switch (end) {
    case 'finished':
      process.stderr.write(`exp: ${tail}\n`);
      if (count('failed') > 0) process.exitCode = 1;
      return;
    case 'detached':
      process.stderr.write(
        `exp: stopped following ${tail}; the jobs go on: exp sweep ${sweep.name} --attach${dbFlag(db)}\n`,
      );
      process.exit(130);
    // eslint-disable-next-line no-fallthrough
    case 'cancelled':
      process.stderr.write(
        `exp: ${tail}; the job was cancelled (exp sweep cancel); run the same exp sweep command again to resume\n`,
      );
      process.exitCode = 1;
      return;
    case 'gave-up':
      if (stopLine !== null) {
        process.stderr.write(`exp: ${tail}; ${stopLine}\n`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write(
        `exp: ${tail}; the jobs ended and were resubmitted as often as --resubmit allows; see the task logs under the artifacts directory's slurm/\n`,
      );
      process.exitCode = 1;
      return;
  }
}

/** How a job stands for exp sweep status: cancelled, its live tasks (and what holds them), or how it ended. */
function jobLine(j: SweepJob, tasks: TaskState[]): string {
  if (j.state === 'cancelled') return 'cancelled';
  const active = activeOf(tasks);
  if (active.length > 0)
    return `${active.length} task(s) pending or running${blockedReason(tasks) ? `; ${blockedReason(tasks)}` : ''}`;
  const faults = faultsOf(tasks);
  return faults.length > 0 ? `ended: ${describeEnd(tasks)}` : 'ended';
}

/** A sweep named on the command line: a YAML (its name) or the name itself. */
function sweepName(ref: string): string {
  try {
    resolveSweepFile(ref);
  } catch {
    return ref;
  }
  return readSweepName(ref);
}

async function openRecorded(
  ref: string,
  db: string,
  lease: number,
  forReading = false,
): Promise<{ store: RunStore; sweep: RecordedSweep }> {
  const name = sweepName(ref);
  const store = await openRunStore(db, { staleSeconds: lease, forReading, existing: true });
  const sweep = await store.recordedSweep(name);
  if (!sweep) {
    await store.close();
    throw new UserError(
      `sweep ${JSON.stringify(name)}: not in ${store.location} (submit it first with exp sweep ${ref} --executor slurm --db ...)`,
    );
  }
  return { store, sweep };
}

/** `exp sweep X --attach`: follow a sweep submitted earlier (from any host), until it ends or Ctrl-C. */
export async function attachSweep(ref: string, o: ClusterSweepOptions): Promise<void> {
  const lease = o.lease ?? DEFAULT_STALE_SECONDS;
  const { store, sweep } = await openRecorded(ref, o.db, lease);
  try {
    const jobs = await store.sweepJobs(sweep.name);
    const state = followState(sweep, jobs.at(-1)?.concurrency ?? arrayThrottle(o.concurrency), o.db);
    const end = await show(store, sweep, state, o, lease, async () => false);
    finish(end, sweep, state, o.db);
  } finally {
    await store.close();
  }
}

/** `exp sweep status X` and `exp sweep cancel X`. */
/** `exp sweep status`: the sweep's trials and its Slurm jobs as the store shows them. */
export async function sweepStatus(ref: string, opts: { db: string }): Promise<void> {
  // Only reads: a role granted SELECT alone can ask.
  const { store, sweep } = await openRecorded(ref, opts.db, DEFAULT_STALE_SECONDS, true);
  try {
    const jobs = await store.sweepJobs(sweep.name);
    const state = followState(sweep, jobs.at(-1)?.concurrency ?? 1, opts.db);
    await poll(store, sweep, state, DEFAULT_STALE_SECONDS);
    process.stdout.write(`${formatSweepStatus(state.get())}\n`);
    for (const j of jobs) {
      const tasks = j.state === 'submitted' && j.executor === 'slurm' ? taskStates(j.jobId) : [];
      process.stdout.write(
        `job ${j.jobId} (${j.executor}, ${j.tasks} tasks, at most ${j.concurrency} at once, submitted ${j.submittedAt} on ${j.host}): ${jobLine(j, tasks)}\n`,
      );
    }
  } finally {
    await store.close();
  }
}

/** `exp sweep cancel`: scancel the sweep's Slurm jobs and mark them cancelled. */
export async function cancelSweep(ref: string, opts: { db: string }): Promise<void> {
  const { store, sweep } = await openRecorded(ref, opts.db, DEFAULT_STALE_SECONDS);
  try {
    const jobs = (await store.sweepJobs(sweep.name)).filter((j) => j.state === 'submitted' && j.executor === 'slurm');
    let cancelled = 0;
    for (const j of jobs) {
      if (activeOf(taskStates(j.jobId)).length > 0) {
        cancelJob(j.jobId);
        cancelled++;
        process.stderr.write(`exp: scancel ${j.jobId}\n`);
      }
      await store.setJobState(sweep.name, j.jobId, 'cancelled');
    }
    process.stderr.write(
      cancelled > 0
        ? `exp: sweep ${sweep.name}: ${cancelled} job(s) cancelled; running trials are marked interrupted and resume when the sweep is run again\n`
        : `exp: sweep ${sweep.name}: no job pending or running\n`,
    );
  } finally {
    await store.close();
  }
}

/** Whether an adaptive sweep is over, from the store alone: the scheduler's view, with nothing to train here. */
function adaptiveComplete(sweep: ExpandedSweep, store: RunStore, lease: number): () => Promise<boolean> {
  const view = new AdaptiveRunner({
    sweep,
    plan: sweep.search!,
    store,
    concurrency: 1,
    leaseSeconds: lease,
    train: async () => ({ runId: null, reached: false, failed: false }),
    stopping: () => true,
    hooks: { onUnits: () => undefined, onDecisions: () => undefined },
  });
  return async () => {
    await view.refresh();
    return view.finished();
  };
}
