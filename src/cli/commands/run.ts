import type { Command } from 'commander';
import { action, collect, DEFAULT_DB } from '../action.js';
import { loadExperiment, parseOverride } from '../../config/load.js';
import type { ExperimentConfig } from '../../config/schema.js';
import { openDatabase } from '../../store/db.js';
import { createRun, reopenRun, RunRecorder } from '../../store/recorder.js';
import { resolveRun } from '../../store/queries.js';
import type { EvalEvent, TrainEvent } from '../../train/events.js';
import { ProgressPrinter } from '../progress.js';
import { formatResultsTable } from '../results-table.js';
import { TABLE2 } from '../../paper/table2.js';
import { UserError, isUserError, messageOf } from '../../util/errors.js';
import { checkRegistryNames } from '../../registry/validate.js';
import { parseBackendName } from '../../backend/select.js';

interface RunOptions {
  set?: string[];
  name?: string;
  db: string;
  backend: string;
  dashboard: boolean;
  quiet?: boolean;
  json?: boolean;
  resume?: string;
}

/** The paper's system a config replays, for showing its Table 2 row beside ours. */
function paperSystem(config: ExperimentConfig): string | null {
  const b = config.features.branches.join(',');
  const cls = config.loss.classification?.name;
  const metric = config.loss.metric !== null;
  if (b === 'logmel,tgram,tagram,fga-spec' && cls === 'noisy-arcmix' && metric) return 'fgaspecnet';
  if (b === 'logmel,tgram,tagram' && cls === 'noisy-arcmix' && !metric) return 'tastgram';
  if (b === 'logmel,tgram' && cls === 'arcface' && !metric) return 'stgram-mfn';
  return null;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('train and evaluate one experiment; every run is kept in the run store')
    .argument('[experiment]', 'experiment YAML (see experiments/)')
    .option('--set <key=value>', 'override a dotted key of the experiment YAML (repeatable)', collect, [])
    .option('--name <name>', 'run name (default: the experiment name)')
    .option('--db <file>', 'run store', DEFAULT_DB)
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .option('--resume <run>', 'continue an interrupted or failed run from its last checkpoint')
    .option('--no-dashboard', 'plain line progress (the default for a single run)')
    .option('--quiet', 'print nothing but errors and the final table')
    .option('--json', 'print one JSON document with the run id and final metrics')
    .action(
      action(async (file: string | undefined, opts: RunOptions) => {
        const backendName = parseBackendName(opts.backend);
        const db = openDatabase(opts.db);
        let config: ExperimentConfig;
        let runId: string;
        let runDir: string;
        let resumeFrom: string | undefined;
        let name: string;
        if (opts.resume) {
          if (file) throw new UserError(`--resume ${opts.resume}: give either an experiment file or --resume, not both (the run keeps its stored config)`);
          // Check and take the run in one transaction, so two resumes cannot both take it.
          const { run, from } = db.transaction(() => {
            const r = resolveRun(db, opts.resume!);
            if (r.status === 'done') throw new UserError(`run ${r.id} (${r.name}) is already done; nothing to resume`);
            if (r.status === 'running') throw new UserError(`run ${r.id} (${r.name}) is running in process ${r.pid}; it cannot be resumed twice`);
            return { run: r, from: reopenRun(db, r.id, { fresh: false }) };
          }).immediate();
          config = run.config;
          runId = run.id;
          name = run.name;
          runDir = run.runDir ?? `runs/${run.id}`;
          resumeFrom = from ?? undefined;
        } else {
          if (!file) throw new UserError('exp run: give an experiment YAML (e.g. experiments/fgaspecnet.yaml) or --resume <run>');
          config = loadExperiment(file, (opts.set ?? []).map((s) => parseOverride(s)));
          name = opts.name ?? config.name;
          checkRegistryNames(config);
          const run = createRun(db, { name, config, dbFile: opts.db });
          runId = run.id;
          runDir = run.runDir ?? `runs/${run.id}`;
        }
        const recorder = new RunRecorder(db, runId);
        recorder.startHeartbeat();
        const printer = opts.quiet || opts.json ? null : new ProgressPrinter(process.stderr);
        if (!opts.quiet && !opts.json) {
          process.stderr.write(`run ${runId} (${name})${resumeFrom ? `, resuming from ${resumeFrom}` : ''}\n`);
        }
        const controller = new AbortController();
        const onSigint = () => controller.abort();
        process.once('SIGINT', onSigint);
        let final: EvalEvent | null = null;
        const { train } = await import('../../train/index.js');
        try {
          await train({
            config,
            runDir,
            backend: backendName,
            signal: controller.signal,
            ...(resumeFrom ? { resumeFrom } : {}),
            onEvent: (e: TrainEvent) => {
              recorder.handle(e);
              printer?.handle(e);
              if (e.kind === 'eval' && e.final) final = e;
            },
          });
        } catch (e) {
          if (controller.signal.aborted) {
            recorder.interrupt();
            db.close();
            process.stderr.write(`\nrun ${runId} interrupted; continue it with: exp run --resume ${runId}${opts.db !== DEFAULT_DB ? ` --db ${opts.db}` : ''}\n`);
            process.exit(130);
          }
          recorder.fail(messageOf(e));
          db.close();
          if (isUserError(e)) throw e;
          if (e instanceof Error && e.name === 'DivergedError') throw new UserError(`run ${runId} failed: ${e.message} (stored as failed)`);
          throw e;
        } finally {
          process.off('SIGINT', onSigint);
        }
        db.close();
        const result = final as EvalEvent | null;
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ id: runId, name, status: 'done', metrics: result ? { types: result.types, average: result.average } : null })}\n`,
          );
          return;
        }
        if (result) {
          const system = paperSystem(config);
          process.stdout.write(`\n${formatResultsTable(result.types, result.average, system && TABLE2[system] ? system : null)}\n`);
        }
        if (!opts.quiet) process.stderr.write(`run ${runId} done; see it again with: exp show ${runId}\n`);
      }),
    );
}
