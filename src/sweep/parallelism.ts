import { DEFAULT_WASM_THREADS, sweepThreads } from '../backend/select.js';

/**
 * How many trials a local sweep trains at once, and with how many wasm threads each: `--concurrency
 * N`, or `auto` (the default), chosen from the cores, the memory, the trials left and the backend.
 * Pure: the caller measures the machine (machineNow) and predicts the backend (src/backend/predict.ts).
 */

/** What the trials will train on: a GPU or TensorFlow takes the whole machine, wasm and cpu one core per thread. */
export type TrialBackend = 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';

export interface ParallelismInput {
  /** `--concurrency`: a number, or 'auto'. */
  requested: number | 'auto';
  /** Trials left to run (an adaptive sweep: its configurations). */
  pending: number;
  /** Cores this process may use (os.availableParallelism()). */
  cores: number;
  /** Bytes available now and in total (the smaller of the machine's and the cgroup's), and one trial's estimate. */
  memory: { free: number; total: number; perTrial: number };
  /** The backend the trials will use; `predicted`: --backend auto's probable pick, not a certainty. */
  backend: { name: TrialBackend; predicted: boolean };
  /** Wasm threads per trial the user set (--threads or EXP_THREADS), null when not set. */
  threads: number | null;
  /** An adaptive sweep's pruning method ('asha', 'median'), null when it does not prune. */
  pruning: string | null;
}

export interface Parallelism {
  /** Trials trained at once. */
  concurrency: number;
  /** EXP_THREADS for the trial processes, or null to leave them as they are (the user's, or the single-run default). */
  threads: number | null;
  /** Compute threads each trial uses, for the line (0: the backend manages its own: GPU, TensorFlow). */
  threadsEach: number;
  /** Why, in a few words: `auto: 2 cores`, `--concurrency 3`. */
  why: string;
}

/**
 * Memory kept free beside the trials: 10 % of the total, at least 1 GiB (the orchestrator, the
 * page cache of the clips and other programs live there).
 */
export function memoryMargin(total: number): number {
  return Math.max(GIB, 0.1 * total);
}

const GIB = 2 ** 30;

export function choose(i: ParallelismInput): Parallelism {
  return i.requested === 'auto' ? chooseAuto(i) : chooseFixed(i, i.requested);
}

/** `--concurrency N`: as before `auto` existed; the cores shared out when the user set no thread count. */
function chooseFixed(i: ParallelismInput, n: number): Parallelism {
  const shared = i.threads === null ? (sweepThreads(n, i.cores) ?? null) : null;
  return {
    concurrency: n,
    threads: shared,
    threadsEach: threadsEach(i, shared),
    why: `--concurrency ${n}${shared !== null ? `, ${i.cores} cores` : ''}`,
  };
}

function threadsEach(i: ParallelismInput, shared: number | null): number {
  if (i.backend.name === 'webgpu' || i.backend.name === 'tensorflow') return 0;
  if (i.backend.name === 'cpu') return 1;
  return i.threads ?? shared ?? DEFAULT_WASM_THREADS;
}

function chooseAuto(i: ParallelismInput): Parallelism {
  const one = (why: string): Parallelism => ({ concurrency: 1, threads: null, threadsEach: threadsEach(i, null), why });
  const { name, predicted } = i.backend;
  // A GPU trains one trial with the whole device; TensorFlow's native ops use every core themselves.
  if (name === 'webgpu')
    return one(predicted ? 'auto: --backend auto may pick the GPU here' : 'auto: backend webgpu, one trial per GPU');
  if (name === 'tensorflow')
    return one(
      predicted
        ? 'auto: --backend auto picks the native TensorFlow bindings, which use every core'
        : 'auto: backend tensorflow uses every core',
    );
  // Several workers make pruning decisions depend on the order results arrive in (docs/sweeps.md);
  // one at a time keeps them reproducible unless the user asks for more.
  if (i.pruning !== null) return one(`auto: ${i.pruning} pruning, decisions in a reproducible order`);
  const per = name === 'cpu' ? 1 : (i.threads ?? 1);
  const byCores = Math.max(1, Math.floor(i.cores / per));
  const budget = Math.min(i.memory.free, i.memory.total) - memoryMargin(i.memory.total);
  const byMemory =
    i.memory.perTrial > 0 ? Math.max(0, Math.floor(budget / i.memory.perTrial)) : Number.MAX_SAFE_INTEGER;
  const pending = Math.max(1, i.pending);
  const concurrency = Math.max(1, Math.min(pending, byCores, byMemory));
  const shared = name === 'wasm' && i.threads === null ? (sweepThreads(concurrency, i.cores) ?? null) : null;
  const cores = `${i.cores} core${i.cores === 1 ? '' : 's'}${i.threads !== null && name === 'wasm' ? `, threads set to ${i.threads}` : ''}`;
  let why: string;
  if (byMemory < Math.min(pending, byCores))
    why = `auto: ${cores}, memory for ${byMemory} (~${gb(i.memory.perTrial)} GB a trial, ${gb(Math.min(i.memory.free, i.memory.total))} GB free)`;
  else if (pending < byCores) why = `auto: ${pending} trial${pending === 1 ? '' : 's'} to run, ${cores}`;
  else why = `auto: ${cores}`;
  return { concurrency, threads: shared, threadsEach: threadsEach(i, shared), why };
}

const gb = (bytes: number): string => (bytes / 1e9).toFixed(1);

/** The line printed at a sweep's start: `2 trials at a time, 1 thread each (auto: 2 cores)`. */
export function describeParallelism(p: Parallelism): string {
  const trials = `${p.concurrency} trial${p.concurrency === 1 ? '' : 's'} at a time`;
  const each = p.concurrency === 1 ? '' : ' each';
  const threads = p.threadsEach > 0 ? `, ${p.threadsEach} thread${p.threadsEach === 1 ? '' : 's'}${each}` : '';
  return `${trials}${threads} (${p.why})`;
}

/**
 * The wasm heap one trial grows to, approximately: measured at 0.7 GB for micro-batches of 4
 * ten-second clips, 1.4 GB at 8 and 2.6 GB at 16 (docs/backend.md), i.e. ~17.5 MB per clip-second
 * of a micro-batch (the figure at 16 is a little below the line, so the line errs high), capped at
 * the 4 GB a wasm heap can reach. `base` covers the rest of the process (Node, tfjs, the clips and
 * features in memory).
 */
export function trialBytes(microBatch: number, seconds: number, base = TRIAL_BASE_BYTES): number {
  return base + Math.min(WASM_HEAP_CAP, HEAP_PER_CLIP_SECOND * microBatch * seconds);
}

const HEAP_PER_CLIP_SECOND = 0.7e9 / (4 * 10);
const WASM_HEAP_CAP = 4 * GIB;
/**
 * A trial process beside its wasm heap (approximate; see trialBytes). Measured: a quick-profile
 * FGASpecNet trial (micro-batches of 16 clips of 2 s, one thread, 540 training and 1,800 test
 * clips) peaked at 1.11 GB resident, ~0.55 GB above its heap estimate; 0.6 GB errs high.
 */
export const TRIAL_BASE_BYTES = 0.6e9;
