import { InvalidArgumentError, type Command } from 'commander';
import { action, collect, parsePositiveInt } from '../action.js';
import { artifactsOption, backendOption, dbOption, leaseOption, maxTrialsOption, noDashboardOption, profileOption, seedsOption, setOption } from '../options.js';
import { parseOverride } from '../../config/load.js';
import { DEFAULT_MAX_TRIALS, loadSweep } from '../../sweep/spec.js';
import { SweepEngine } from '../../sweep/engine.js';
import { openRunStore } from '../../store/open.js';
import { preflight } from '../../preflight/preflight.js';
import { preflightOptions } from '../preflight-options.js';
import { isUserError, UserError } from '../../util/errors.js';
import { interruptOnSignals } from '../../session/signals.js';
import { attachPlainProgress } from '../../dashboard/plain.js';
import { renderSweepDashboard } from '../../dashboard/render.js';
import { formatSweepTable } from '../../report/sweep-table.js';
import { reportCommand } from '../../util/format.js';
import { attachSweep, registerClusterSubcommands, requireSharedStore, slurmSweep, type ClusterSweepOptions } from './sweep-cluster.js';
import { EXECUTORS, type ExecutorName } from '../../executor/options.js';

interface SweepOptions extends ClusterSweepOptions {
  set: string[];
  profile?: string;
  concurrency: number;
  db: string;
  artifacts?: string;
  backend: string;
  dashboard: boolean;
  rerunFailed: boolean;
  force: boolean;
  seeds?: number[];
  dryRun: boolean;
  executor: ExecutorName;
  attach: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('run every trial of a sweep YAML (sweeps/NAME.yaml), resuming where it stopped')
    .argument('<sweep>', 'a sweep YAML file, or a name found as sweeps/<name>.yaml')
    .addOption(setOption('override an experiment key in every trial (applied last)'))
    .addOption(profileOption())
    .addOption(seedsOption())
    .option('--concurrency <n>', 'trials trained at once (on a 2-core CPU, 2 finished the quick ablation ~15% sooner)', parsePositiveInt('--concurrency'), 1)
    .addOption(dbOption())
    .addOption(artifactsOption())
    .addOption(backendOption())
    .addOption(noDashboardOption())
    .option('--rerun-failed', 're-run failed trials from scratch (they are skipped otherwise)', false)
    .option('--force', 're-run every trial from scratch, finished ones included (their old results are replaced)', false)
    .option('--dry-run', 'validate the sweep and print what would run, without training', false)
    .addOption(maxTrialsOption(`refuse a sweep that expands to more trials than this (default: maxTrials in the sweep file, else ${DEFAULT_MAX_TRIALS})`))
    .option('--executor <name>', 'local (trials as child processes here) | slurm (one job array of exp worker tasks; needs a postgres:// --db)', parseExecutor, 'local')
    .option('--detach', 'slurm: submit and return; follow later with --attach', false)
    .option('--attach', 'follow a sweep submitted earlier (dashboard from the store), until it ends or Ctrl-C', false)
    .option('--requeue', 'slurm: requeue on node failure, and near the time limit checkpoint and requeue the task (sbatch --requeue --signal=B:USR1@120)', false)
    .addOption(leaseOption('slurm: a trial whose worker shows no sign of life this long is resumed by another (default 300)', false))
    .option('--resubmit <n>', 'slurm: when the job ends with trials left (tasks killed outright), submit again up to n times (default 2)', parseCount)
    .option('--partition <name>', 'slurm: sbatch --partition (overrides executor.slurm.partition of the sweep YAML)')
    .option('--time <limit>', 'slurm: sbatch --time per task, e.g. 4:00:00')
    .option('--gres <spec>', 'slurm: sbatch --gres, e.g. gpu:1')
    .option('--cpus-per-task <n>', 'slurm: sbatch --cpus-per-task', parsePositiveInt('--cpus-per-task'))
    .option('--mem <size>', 'slurm: sbatch --mem, e.g. 16G')
    .option('--sbatch <arg>', 'slurm: one more sbatch argument, e.g. --sbatch=--account=lab (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Identity is the canonical hash of each trial's validated config. Running the same command again
never repeats a finished trial: missing and interrupted trials run (interrupted ones resume from
their last checkpoint); failed ones only with --rerun-failed; everything with --force.
Ctrl-C / SIGTERM stop cleanly: running trials checkpoint, are marked interrupted and resume next
time (exit 130 / 143); a second Ctrl-C kills them at once.`,
    )
    .action(action(sweepCommand));
  registerClusterSubcommands(cmd);
}

function parseExecutor(value: string): ExecutorName {
  if (!(EXECUTORS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--executor expects one of ${EXECUTORS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ExecutorName;
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`--resubmit expects a whole number >= 0, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function sweepCommand(ref: string, opts: SweepOptions): Promise<void> {
  if (opts.attach) return attachSweep(ref, opts);
  if (opts.executor === 'slurm') requireSharedStore(opts.db);
  const overrides = opts.set.map((s) => parseOverride(s));
  // Everything is validated here, before any trial starts.
  const sweep = loadSweep(ref, { profile: opts.profile ?? null, overrides, ...(opts.seeds ? { seeds: opts.seeds } : {}), ...(opts.maxTrials ? { maxTrials: opts.maxTrials } : {}) });
  if (opts.dryRun) {
    const store = await openRunStore(opts.db);
    try {
      for (const t of sweep.trials) {
        const run = await store.findTrialRun(sweep.name, t.hash);
        process.stdout.write(`${t.name.padEnd(24)} ${t.hash}  ${run ? `${run.status} (${run.id})` : 'new'}\n`);
      }
    } finally {
      await store.close();
    }
    return;
  }
  // Every trial's config and data are checked before the first trial starts, so a bad value in
  // the last trial does not surface after hours of the others (issue 16); the audio check is
  // cached, so the per-trial preflight in the engine costs little.
  const check = preflightOptions(opts.db, true);
  for (const t of sweep.trials) {
    try {
      await preflight(t.config, check);
    } catch (e) {
      if (isUserError(e)) throw new UserError(`sweep ${sweep.name}, trial ${t.name}: ${e.message}`);
      throw e;
    }
  }
  if (opts.executor === 'slurm') return slurmSweep(sweep, opts);
  const engine = await SweepEngine.open({
    sweep, dbFile: opts.db, artifacts: opts.artifacts ?? null, concurrency: opts.concurrency, backend: opts.backend, rerunFailed: opts.rerunFailed, force: opts.force,
    preflight: async (config) => {
      await preflight(config, preflightOptions(opts.db, false));
    },
  });
  const live = opts.dashboard && process.stdout.isTTY === true && process.env.CI === undefined;
  const dashboard = live ? renderSweepDashboard(engine.state) : null;
  const detach = live ? () => {} : attachPlainProgress(engine.state, (line) => process.stderr.write(`${line}\n`));
  // First signal: stop cleanly (trials checkpoint and are marked interrupted); a second: kill them now.
  const signals = interruptOnSignals({ onFirst: (sig) => engine.stop(sig), onSecond: (sig) => engine.stop(sig) });
  const summary = await engine.run().finally(() => signals.dispose());
  await dashboard?.close();
  detach();
  await engine.close();
  if (summary.storeLost !== null) throw new UserError(`sweep ${sweep.name} stopped: ${summary.storeLost}; run the same exp sweep again once the server is back`);
  // The summary table, on either engine (stale runs are not re-marked: this process just ran them).
  const store = await openRunStore(opts.db, { detectStale: false });
  const table = await formatSweepTable(store, sweep.name, { runIds: engine.state.get().trials.map((t) => t.runId) }).finally(() => store.close());
  process.stderr.write(`\n${table}\n`);
  if (!summary.stopped) process.stderr.write(`figures (ROC curves, score distributions, learning curves): ${reportCommand(sweep.name, opts.db)}\n`);
  if (summary.stopped) {
    process.stderr.write(`exp: sweep ${sweep.name} stopped; run the same command again to resume\n`);
    process.exit(signals.exitCode() ?? 130);
  }
  if (summary.failed > 0) {
    process.stderr.write(`exp: ${summary.failed} trial(s) failed (see exp runs --sweep ${sweep.name}); re-run them with --rerun-failed\n`);
    process.exitCode = 1;
  }
}
