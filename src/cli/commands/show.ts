import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption, jsonOption } from '../options.js';
import { DEFAULT_STALE_SECONDS, staleReason } from '../../store/stale.js';
import { formatResultsTable } from '../results-table.js';
import { textTable, csv } from '../../report/text-table.js';
import { flatten } from '../../report/flatten.js';
import { TABLE2 } from '../../paper/table2.js';
import { reportCommand } from '../../util/format.js';
import type { ExperimentConfig } from '../../config/schema.js';
import { displayName, displayText } from '../../util/names.js';
import { loadTfjs } from '../lazy.js';
import { builtinUsedConfigKeys, systemName, underKeys } from '../../systems/config-keys.js';

/**
 * The config keys its system reads (the system says which, through the registry). A run made with
 * plug-ins: their parts say which (when the files are still there), so the catalog is loaded, and
 * with it tfjs; a run without plug-ins has the built-in parts, whose keys are known without them.
 */
async function usedKeys(config: ExperimentConfig): Promise<string[] | null> {
  if ((config.plugins ?? []).length === 0) return builtinUsedConfigKeys(config);
  await loadTfjs();
  const { catalogFor } = await import('../../parts/files.js');
  const { defaultCatalog } = await import('../../parts/builtin.js');
  const { usedConfigKeys } = await import('../../systems/build.js');
  const parts = await catalogFor(config).catch(() => defaultCatalog());
  return usedConfigKeys(config, parts);
}

/**
 * The config as dotted keys, only those its system reads: a baseline's run would otherwise list
 * the FGASpecNet family's branches, losses and model keys, filled with defaults it never used.
 */
async function configLines(config: ExperimentConfig): Promise<string[]> {
  const used = await usedKeys(config);
  const all = Object.entries(flatten(config));
  const shown = used ? all.filter(([k]) => underKeys(k, used)) : all;
  const lines = shown.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  const hidden = all.length - shown.length;
  if (hidden > 0)
    lines.push(
      `  (${hidden} keys that system ${systemName(config)} does not read are not listed; --json has the whole config)`,
    );
  return lines;
}

export function register(program: Command): void {
  program
    .command('show')
    .description('one run: config, per-epoch metrics, per-type AUC / pAUC table')
    .argument('<run>', 'run id (or unique prefix), run name (latest run of that name) or sweep trial name')
    .addOption(jsonOption())
    .option('--scores', 'print the final per-clip scores as CSV (type,id,label,score,path), the input of exp metrics')
    .addOption(dbOption())
    .action(
      action(async (ref: string, opts: { json?: boolean; scores?: boolean; db: string }) => {
        // The store (better-sqlite3, or pg) and the report modules (zod) are imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { withRunReader } = await import('../../store/open.js');
        const { adaptiveRecord, decisionsFor, rungStanding, testSelectionNote } = await import(
          '../../report/adaptive.js'
        );
        const { labelOf } = await import('../../sweep/search/summary.js');
        const read = await withRunReader(opts.db, async (store) => {
          const run = await store.resolveRun(ref);
          if (opts.scores) return { run, scores: await store.getScores(run.id, { final: true }) };
          return {
            run,
            epochs: await store.getEpochs(run.id),
            results: await store.getResults(run.id),
            checkpoints: await store.getCheckpoints(run.id),
            adaptive: await adaptiveRecord(store, run.sweep),
          };
        });
        const { run } = read;
        if (read.scores) {
          process.stdout.write(
            csv(
              ['type', 'id', 'label', 'score', 'path'],
              read.scores.map((r) => [r.type, r.id, r.label, r.score, r.path]),
            ),
          );
          return;
        }
        const { epochs = [], results = [], checkpoints = [], adaptive = null } = read;
        // An adaptive sweep's trial: its configuration's decisions at the rungs, and the status they give it.
        const decisions = adaptive && run.trial ? decisionsFor(adaptive, labelOf(run.trial)) : [];
        const standing = rungStanding(adaptive, run);
        const pruneStatus = standing?.status ?? null;
        const warning = testSelectionNote(adaptive);
        const final = results.find((r) => r.final) ?? null;
        const stale = staleReason(run, DEFAULT_STALE_SECONDS);
        if (opts.json) {
          const rungs = adaptive
            ? {
                rungs: {
                  status: pruneStatus ?? run.status,
                  ...(standing ? { epoch: standing.epoch, reason: standing.reason } : {}),
                  metric: adaptive.info.metric,
                  testSelection: adaptive.info.testSelection,
                  decisions,
                },
              }
            : {};
          process.stdout.write(
            `${JSON.stringify({ ...run, stale: stale !== null, epochs, results, checkpoints, final, ...rungs }, null, 2)}\n`,
          );
          return;
        }
        const out: string[] = [];
        out.push(
          `run ${run.id}  ${displayName(run.name)}  ${stale ? 'stale' : (pruneStatus ?? run.status)}${run.sweep ? `  sweep ${displayText(`${run.sweep}/${run.trial}`)}` : ''}${run.profile ? ` (profile ${run.profile})` : ''}`,
        );
        const simdKernels = typeof run.info?.['simdKernels'] === 'string' ? `  simd ${run.info['simdKernels']}` : '';
        out.push(
          `config ${run.configHash}  seed ${run.seed}  backend ${run.backend ?? '-'}  threads ${run.threads ?? '-'}${simdKernels}  host ${run.host}`,
        );
        out.push(
          `git ${run.gitCommit?.slice(0, 12) ?? '-'}${run.gitDirty ? ' (dirty)' : ''}  created ${run.createdAt}  started ${run.startedAt ?? '-'}  finished ${run.finishedAt ?? '-'}`,
        );
        out.push(`run dir ${run.runDir ?? '-'}`);
        if (stale) out.push(`stale: ${stale}`);
        if (warning) out.push(warning);
        for (const d of decisions) out.push(`rung epoch ${d.rung}: ${d.action} (${d.reason})`);
        if (run.error) out.push(`error: ${displayText(run.error, { keepNewlines: true })}`);
        for (const p of run.config.plugins ?? [])
          out.push(displayText(`plug-in ${p.path}  sha256 ${p.sha256.slice(0, 16)}`));
        out.push('', 'config:', ...(await configLines(run.config)).map((l) => displayText(l)));
        if (epochs.length) {
          const terms = [...new Set(epochs.flatMap((e) => Object.keys(e.terms)))];
          out.push(
            '',
            textTable(
              ['epoch', 'loss', ...terms, 'val loss', 'val acc %', 'lr', 'clips/s', 'seconds'],
              epochs.map((e) => [
                String(e.epoch),
                e.loss?.toFixed(4) ?? '-',
                ...terms.map((t) => e.terms[t]?.toFixed(4) ?? '-'),
                e.valLoss?.toFixed(4) ?? '-',
                e.valAcc === null ? '-' : (100 * e.valAcc).toFixed(1),
                e.lr?.toExponential(2) ?? '-',
                e.clipsPerSec?.toFixed(1) ?? '-',
                e.seconds?.toFixed(1) ?? '-',
              ]),
            ),
          );
        }
        for (const r of results.filter((x) => !x.final && x.average)) {
          out.push(
            `eval at epoch ${r.epoch}: AUC ${(100 * r.average!.auc).toFixed(2)}  pAUC ${(100 * r.average!.pauc).toFixed(2)}  pAUC(McClish) ${(100 * r.average!.paucMcclish).toFixed(2)}`,
          );
        }
        if (final?.average) {
          const system = run.config.name in TABLE2 ? run.config.name : null;
          out.push(
            '',
            `final evaluation (epoch ${final.epoch}):`,
            formatResultsTable(final.types, final.average, system),
          );
        }
        if (checkpoints.length)
          out.push(
            '',
            `checkpoints: ${checkpoints.length}, latest epoch ${checkpoints[checkpoints.length - 1]!.epoch}${checkpoints.some((c) => c.best) ? `, best epoch ${checkpoints.find((c) => c.best)!.epoch}` : ''}`,
          );
        if (run.status === 'done')
          out.push('', `figures (ROC curves, score distributions, learning curves): ${reportCommand(run.id, opts.db)}`);
        process.stdout.write(`${out.join('\n')}\n`);
      }),
    );
}
