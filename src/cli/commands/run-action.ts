import { parseOverride } from '../../config/load.js';
import { readExperiment } from '../../parts/experiment.js';
import { catalogFor } from '../../parts/files.js';
import { openRunStore } from '../../store/open.js';
import { describeStoreLost, runSession, type SessionOutcome, type SessionTarget } from '../../session/session.js';
import { DEFAULT_STALE_SECONDS } from '../../store/stale.js';
import { interruptOnSignals, type SignalWatch } from '../../session/signals.js';
import { loadTrainer } from '../../session/trainer.js';
import { ProgressPrinter } from '../progress.js';
import { reportCommand } from '../../util/format.js';
import { dbFlag, maskPassword } from '../../util/db-location.js';
import { formatResultsTable } from '../results-table.js';
import { TABLE2 } from '../../paper/table2.js';
import { systemDefinition } from '../../systems/build.js';
import { UserError, isUserError } from '../../util/errors.js';
import { applyGpuAdapterFlag, applyThreadsFlag, parseBackendName } from '../../backend/select.js';
import { preflight } from '../../preflight/preflight.js';
import { preflightOptions } from '../preflight-options.js';
import { checkName, displayName } from '../../util/names.js';
import { checkRunDirRoot, checkStoredRunDir } from '../run-dirs.js';

/** `exp run`'s flags as commander gives them; run.ts declares them and imports this module when the command runs. */
export interface RunOptions {
  set?: string[];
  name?: string;
  db: string;
  artifacts?: string;
  backend: string;
  gpuAdapter?: string;
  threads?: number;
  dashboard: boolean;
  quiet?: boolean;
  json?: boolean;
  resume?: string;
  plugin: string[];
}

export async function runCommand(file: string | undefined, opts: RunOptions): Promise<void> {
  const backend = parseBackendName(opts.backend);
  applyGpuAdapterFlag(opts.gpuAdapter);
  applyThreadsFlag(opts.threads);
  let target: SessionTarget;
  if (opts.resume) {
    if (file)
      throw new UserError(
        `--resume ${opts.resume}: give either an experiment file or --resume, not both (the run keeps its stored config)`,
      );
    if (opts.plugin.length > 0)
      throw new UserError(
        `--resume ${opts.resume}: --plugin is not taken; a resumed run loads the plug-in files it recorded (exp show ${opts.resume})`,
      );
    target = { kind: 'resume', ref: opts.resume };
  } else {
    if (!file)
      throw new UserError('exp run: give an experiment YAML (e.g. experiments/fgaspecnet.yaml) or --resume <run>');
    const { config } = await readExperiment(file, {
      overrides: (opts.set ?? []).map((s) => parseOverride(s)),
      plugins: opts.plugin,
    });
    target = { kind: 'new', name: opts.name === undefined ? config.name : checkName(opts.name, '--name'), config };
  }
  const store = await openRunStore(opts.db, { artifacts: opts.artifacts ?? null });
  // Where checkpoints go, before any row exists (after the store opened, so a store that cannot
  // be written is named as such first); a resumed run keeps its stored directory.
  try {
    if (target.kind === 'new') checkRunDirRoot(opts.db, opts.artifacts);
    else checkStoredRunDir((await store.resolveRun(target.ref)).runDir);
  } catch (e) {
    await store.close();
    throw e;
  }
  const verbose = !opts.quiet && !opts.json;
  const printer = verbose ? new ProgressPrinter(process.stderr) : null;
  // Installed before training starts: a Ctrl-C while the data loads already counts.
  const signals = interruptOnSignals();
  let outcome: SessionOutcome;
  try {
    outcome = await runSession({
      store,
      target,
      trainer: await loadTrainer(),
      backend,
      signal: signals.signal,
      preflight: async (config) => {
        await preflight(config, preflightOptions(opts.db, verbose));
      },
      onStart: ({ run, resumeFrom }) => {
        if (verbose)
          process.stderr.write(
            `run ${run.id} (${displayName(run.name)})${resumeFrom ? `, resuming from ${resumeFrom}` : ''}\n`,
          );
      },
      onEvent: (e) => printer?.handle(e),
    });
  } finally {
    await store.close();
  }
  if (
    (outcome.status === 'done' || outcome.status === 'failed' || outcome.status === 'interrupted') &&
    outcome.finishError
  ) {
    process.stderr.write(
      `exp: could not mark run ${outcome.run.id} ${outcome.status} in ${maskPassword(opts.db)}: ${outcome.finishError}; the store still shows it running until its lease runs out (${DEFAULT_STALE_SECONDS} s without a heartbeat), then as stale\n`,
    );
  }
  await report(outcome, opts, signals);
}

async function report(outcome: SessionOutcome, opts: RunOptions, signals: SignalWatch): Promise<void> {
  const { run } = outcome;
  switch (outcome.status) {
    case 'skipped':
      throw new UserError(`run ${run.id} (${displayName(run.name)}) was not taken: ${outcome.reason}`);
    case 'interrupted':
    case 'paused': // exp run never pauses at a rung; said like an interruption if a trainer did
      process.stderr.write(
        `\nrun ${run.id} interrupted; continue it with: exp run --resume ${run.id}${dbFlag(opts.db)}\n`,
      );
      return process.exit(signals.exitCode() ?? 130);
    case 'store-lost':
      throw new UserError(
        describeStoreLost(outcome, DEFAULT_STALE_SECONDS, `exp run --resume ${run.id}${dbFlag(opts.db)}`),
      );
    case 'failed': {
      const e = outcome.error;
      if (isUserError(e)) throw e;
      if (e instanceof Error && (e.name === 'DivergedError' || /^could not write to the store/.test(outcome.message))) {
        throw new UserError(
          `run ${run.id} failed: ${outcome.message}${outcome.finishError ? '' : ' (stored as failed)'}`,
        );
      }
      throw e;
    }
    case 'done':
      break;
  }
  signals.dispose();
  const result = outcome.final;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ id: run.id, name: run.name, status: 'done', metrics: result ? { types: result.types, average: result.average } : null })}\n`,
    );
    return;
  }
  if (result) {
    // Each system declares which of the paper's Table 2 rows (if any) its config replays.
    const system = systemDefinition(run.config, await catalogFor(run.config)).paperRow(run.config);
    process.stdout.write(
      `\n${formatResultsTable(result.types, result.average, system && TABLE2[system] ? system : null)}\n`,
    );
  }
  if (!opts.quiet)
    process.stderr.write(
      `run ${run.id} done; see it again with: exp show ${run.id}; figures: ${reportCommand(run.id, opts.db)}\n`,
    );
}
