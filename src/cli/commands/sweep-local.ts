import type { ExpandedSweep } from '../../sweep/spec.js';
import { SweepEngine, type SweepEngineOptions } from '../../sweep/engine.js';
import { openRunStore } from '../../store/open.js';
import { preflight } from '../../preflight/preflight.js';
import { preflightOptions } from '../preflight-options.js';
import { interruptOnSignals } from '../../session/signals.js';
import { attachPlainProgress } from '../../dashboard/plain.js';
import { formatSweepTable } from '../../report/sweep-table.js';
import { reportCommand } from '../../util/format.js';
import type { SweepExecutor } from '../../executor/executor.js';
import { UserError } from '../../util/errors.js';
import { availableParallelism, freemem, totalmem } from 'node:os';
import { choose, trialBytes, type Parallelism } from '../../sweep/parallelism.js';
import { defaultThreads, parseBackendName } from '../../backend/select.js';
import { predictBackend } from '../../backend/predict.js';
import { autoMicroBatch } from '../../train/loop.js';
import type { ExperimentConfig } from '../../config/schema.js';
import { featureCacheRoot } from '../../train/data.js';
import { warmFeatureCache } from '../../train/warm.js';
import { runDirFor } from '../../store/writes.js';

export interface LocalSweepOptions {
  db: string;
  artifacts?: string;
  concurrency: number | 'auto';
  backend: string;
  dashboard: boolean;
  rerunFailed: boolean;
  force: boolean;
}

/**
 * `exp sweep X` (--executor local, the default): the sweep engine runs the trials as child
 * processes of this one, --concurrency at a time, with the live dashboard or plain lines, then
 * prints the summary table.
 */
export const localExecutor: SweepExecutor<LocalSweepOptions> = {
  name: 'local',
  check: () => undefined,
  run: runLocal,
};

/**
 * How many trials at once, with how many threads (src/sweep/parallelism.ts), from this machine's
 * cores and memory now, the backend the trials will pick and the largest trial's estimated memory.
 */
function parallelism(sweep: ExpandedSweep, o: LocalSweepOptions, pending: number): Parallelism {
  const configs = sweep.trials.length > 0 ? sweep.trials : (sweep.search?.sample ?? []);
  const prune = sweep.search?.prune.method ?? 'none';
  return choose({
    requested: o.concurrency,
    pending,
    cores: availableParallelism(),
    memory: { free: freemem(), total: memoryLimit(), perTrial: Math.max(0, ...configs.map((t) => estimate(t.config))) },
    backend: predictBackend(parseBackendName(o.backend)),
    // --threads reached EXP_THREADS already (sweep.ts).
    threads: process.env.EXP_THREADS ? defaultThreads() : null,
    pruning: prune === 'none' ? null : prune,
  });
}

/** One trial's memory at the micro-batch exp run picks on wasm (or the config's). */
function estimate(config: ExperimentConfig): number {
  const { seconds } = config.data;
  return trialBytes(config.train.microBatch ?? autoMicroBatch('wasm', seconds, config.train.batchSize), seconds);
}

/** The machine's memory, or the cgroup's limit when smaller (a container, a Slurm allocation). */
function memoryLimit(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 ? Math.min(limit, totalmem()) : totalmem();
}

/**
 * The trials' log-Mels computed once, on every core, into the feature cache the trials read (the
 * one beside their run directories, or EXP_FEATURE_CACHE), before the first trial starts: trials
 * started together would otherwise each compute every clip. Not with the cache off, nor with a
 * stand-in trainer (EXP_TRAINER_MODULE, tests). Best effort: a failure leaves the work to the trials.
 */
function warmUp(o: LocalSweepOptions): Pick<SweepEngineOptions, 'prepare'> {
  const root = featureCacheRoot(runDirFor(o.db, 'trial', o.artifacts ?? null));
  if (root === null || process.env.EXP_TRAINER_MODULE) return {};
  return {
    prepare: {
      what: 'computing the log-Mel features once for all trials',
      run: async (configs, signal) => {
        await warmFeatureCache(configs, root, { signal }).catch(() => {});
      },
    },
  };
}

async function runLocal(sweep: ExpandedSweep, o: LocalSweepOptions): Promise<void> {
  const engine = await SweepEngine.open({
    sweep,
    dbFile: o.db,
    artifacts: o.artifacts ?? null,
    concurrency: (pending) => parallelism(sweep, o, pending),
    backend: o.backend,
    rerunFailed: o.rerunFailed,
    force: o.force,
    preflight: async (config) => {
      await preflight(config, preflightOptions(o.db, false));
    },
    ...warmUp(o),
  });
  const live = o.dashboard && process.stdout.isTTY === true && process.env.CI === undefined;
  // ink and react are imported only for the live dashboard (a terminal), not for plain progress lines.
  const dashboard = live ? (await import('../../dashboard/render.js')).renderSweepDashboard(engine.state) : null;
  const detach = live ? () => {} : attachPlainProgress(engine.state, (line) => process.stderr.write(`${line}\n`));
  // First signal: stop cleanly (trials checkpoint and are marked interrupted); a second: kill them now.
  const signals = interruptOnSignals({ onFirst: (sig) => engine.stop(sig), onSecond: (sig) => engine.stop(sig) });
  const summary = await engine.run().finally(() => signals.dispose());
  await dashboard?.close();
  detach();
  await engine.close();
  if (summary.storeLost !== null)
    throw new UserError(
      `sweep ${sweep.name} stopped: ${summary.storeLost}; run the same exp sweep again once the server is back`,
    );
  // The summary table, on either engine (stale runs are not re-marked: this process just ran them).
  const store = await openRunStore(o.db, { detectStale: false });
  const table = await formatSweepTable(store, sweep.name, {
    runIds: engine.state.get().trials.map((t) => t.runId),
  }).finally(() => store.close());
  process.stderr.write(`\n${table}\n`);
  if (!summary.stopped)
    process.stderr.write(
      `figures (ROC curves, score distributions, learning curves): ${reportCommand(sweep.name, o.db)}\n`,
    );
  if (summary.stopped) {
    process.stderr.write(`exp: sweep ${sweep.name} stopped; run the same command again to resume\n`);
    process.exit(signals.exitCode() ?? 130);
  }
  if (summary.failed > 0) {
    process.stderr.write(
      `exp: ${summary.failed} trial(s) failed (see exp runs --sweep ${sweep.name}); re-run them with --rerun-failed\n`,
    );
    process.exitCode = 1;
  }
}
