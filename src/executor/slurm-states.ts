import { spawnSync } from 'node:child_process';

/**
 * The one place Slurm's job states are read and mapped to what exp does about them. Tasks are
 * read with squeue (`-t all` keeps a finished job for MinJobAge, 300 s by default), so no
 * accounting database is needed; sacct, when the cluster has one, is asked about a job squeue
 * has forgotten.
 */

export interface TaskState {
  /** JOBID_TASK (or JOBID for a job that is not an array). */
  task: string;
  /** Slurm's state name, e.g. RUNNING, TIMEOUT, OUT_OF_MEMORY. */
  state: string;
  /** squeue's reason (%r), e.g. a pending task's "Nodes required for job are DOWN, DRAINED ...". */
  reason: string;
}

export interface StateMeaning {
  /** Queued or running: the task may still run a trial. */
  active: boolean;
  /** The task ended for a reason a trial did not cause, which a trial it held is stopped by. */
  fault: boolean;
  /** Submitting the unfinished trials again may get past it (a time limit with checkpoints, a failed node). */
  resubmit: boolean;
  /** What happened, for a stored error and the one line a user sees. */
  what: string;
}

const ACTIVE = (what: string): StateMeaning => ({ active: true, fault: false, resubmit: false, what });
const FAULT = (resubmit: boolean, what: string): StateMeaning => ({ active: false, fault: true, resubmit, what });

export const SLURM_STATES: Readonly<Record<string, StateMeaning>> = {
  PENDING: ACTIVE('pending'),
  CONFIGURING: ACTIVE('starting'),
  RUNNING: ACTIVE('running'),
  COMPLETING: ACTIVE('ending'),
  SUSPENDED: ACTIVE('suspended'),
  STOPPED: ACTIVE('stopped'),
  REQUEUED: ACTIVE('requeued'),
  REQUEUE_HOLD: ACTIVE('requeued and held'),
  REQUEUE_FED: ACTIVE('requeued'),
  RESIZING: ACTIVE('resizing'),
  SIGNALING: ACTIVE('being signalled'),
  STAGE_OUT: ACTIVE('staging out'),
  // The worker ended by itself: every trial it took is stored as done, failed or interrupted.
  COMPLETED: { active: false, fault: false, resubmit: false, what: 'completed' },
  FAILED: { active: false, fault: false, resubmit: true, what: 'ended with an error (FAILED)' },
  CANCELLED: FAULT(false, 'cancelled (scancel)'),
  TIMEOUT: FAULT(true, 'killed at its time limit (TIMEOUT)'),
  DEADLINE: FAULT(false, 'killed at its deadline (DEADLINE)'),
  // The same memory limit would kill it again: raise --mem first.
  OUT_OF_MEMORY: FAULT(false, 'killed for using more memory than it asked for (OUT_OF_MEMORY)'),
  NODE_FAIL: FAULT(true, 'its node failed (NODE_FAIL)'),
  BOOT_FAIL: FAULT(true, 'its node failed to boot (BOOT_FAIL)'),
  PREEMPTED: FAULT(true, 'preempted (PREEMPTED)'),
};

/** A state this table does not know is taken as an ended task whose cause is unknown. */
export function meaningOf(state: string): StateMeaning {
  return SLURM_STATES[state] ?? FAULT(true, `ended in state ${state}`);
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout ?? '' };
}

/** Every task of the job, queued, running or ended; [] when Slurm no longer knows it. */
export function taskStates(jobId: string): TaskState[] {
  const q = run('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%i|%T|%r']);
  if (q.status === 0 && q.stdout.trim() !== '') return parse(q.stdout);
  // Forgotten by the controller (MinJobAge): the accounting database, if there is one.
  const a = run('sacct', ['-n', '-X', '-P', '-j', jobId, '-o', 'JobID,State,Reason']);
  if (a.status !== 0) return [];
  // sacct writes "CANCELLED by 0" for a cancel.
  return parse(a.stdout).map((t) => ({ ...t, state: t.state.split(' ')[0]! }));
}

function parse(text: string): TaskState[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const [task = '', state = '', ...reason] = l.split('|');
      return { task, state, reason: reason.join('|') };
    });
}

/** The tasks still queued or running. */
export const activeOf = (tasks: TaskState[]): TaskState[] => tasks.filter((t) => meaningOf(t.state).active);

/** The tasks that ended for a reason that stops a trial (time, memory, a node, a cancel). */
export const faultsOf = (tasks: TaskState[]): TaskState[] => tasks.filter((t) => meaningOf(t.state).fault);

/** One line about how the job's tasks ended: "killed at its time limit (TIMEOUT): task 12_0; 3 completed". */
export function describeEnd(tasks: TaskState[]): string {
  const byState = new Map<string, string[]>();
  for (const t of tasks) byState.set(t.state, [...(byState.get(t.state) ?? []), t.task]);
  const faults = [...byState].filter(([state]) => meaningOf(state).fault);
  const rest = [...byState].filter(([state]) => !meaningOf(state).fault);
  return [
    ...faults.map(([state, ids]) => `${meaningOf(state).what}: task ${ids.join(', ')}`),
    ...rest.map(([state, ids]) => `${ids.length} ${meaningOf(state).what}`),
  ].join('; ');
}

/**
 * Why pending tasks do not start, when it is the cluster's doing (nodes drained or down, a
 * partition down), with the nodes' own reasons (sinfo); null when they merely wait their turn.
 */
export function blockedReason(tasks: TaskState[]): string | null {
  const pending = tasks.filter((t) => t.state === 'PENDING');
  if (pending.length === 0 || pending.length < activeOf(tasks).length) return null;
  const reason = pending[0]!.reason;
  if (!/DOWN|DRAIN|ReqNodeNotAvail|NodeDown|PartitionDown|PartitionInactive|PartitionNodeLimit/i.test(reason))
    return null;
  const nodes = run('sinfo', ['-h', '-N', '-o', '%N|%T|%E']);
  const unavailable = parse(nodes.stdout)
    .filter((n) => /DRAIN|DOWN|FAIL|MAINT|REBOOT/i.test(n.state))
    .map((n) => `${n.task} ${n.state.toLowerCase()}${n.reason && n.reason !== 'none' ? ` (${n.reason})` : ''}`);
  return `${pending.length} task(s) pending: ${reason}${unavailable.length > 0 ? `; node ${unavailable.join(', ')}` : ''}`;
}

/**
 * Why Slurm is stopping this task, asked when the worker gets SIGTERM (the job's state is
 * already set then): its time limit (Reason=TimeLimit), a requeue (a node went down: the job is
 * PENDING again), else a cancel. Null outside a Slurm job or when scontrol cannot tell.
 */
export function stopReasonAtSignal(env: NodeJS.ProcessEnv = process.env): string | null {
  const job = env.SLURM_JOB_ID;
  if (!job) return null;
  const r = run('scontrol', ['-o', 'show', 'job', job]);
  if (r.status !== 0) return null;
  const state = /\bJobState=(\S+)/.exec(r.stdout)?.[1] ?? '';
  const reason = /\bReason=(\S+)/.exec(r.stdout)?.[1] ?? '';
  if (reason === 'TimeLimit' || state === 'TIMEOUT') return meaningOf('TIMEOUT').what;
  if (/NodeDown|NODE_FAIL/.test(reason + state)) return meaningOf('NODE_FAIL').what;
  if (/^(PENDING|REQUEUED|REQUEUE_HOLD)$/.test(state))
    return 'requeued by Slurm (its node went down or it was preempted); it restarts and resumes';
  if (state === 'PREEMPTED') return meaningOf('PREEMPTED').what;
  if (state === 'COMPLETING' || state === 'CANCELLED') return meaningOf('CANCELLED').what;
  return null;
}
