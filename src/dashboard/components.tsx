import { Box, Static, Text } from 'ink';
import { bar, formatDuration, formatTerms, pct, reportCommand } from '../util/format.js';
import { queueCounts, rungLine, sweepEta, trialProgress } from './derive.js';
import type { SweepState, TrialView } from '../sweep/state.js';

/** Pure views over SweepState: everything comes in through props (tested with ink-testing-library). */

export function Header({ state, now }: { state: SweepState; now: number }) {
  const c = queueCounts(state);
  const eta = state.finished ? null : sweepEta(state, now);
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>sweep {state.sweep}</Text>
        {state.profile ? <Text dimColor> (profile {state.profile})</Text> : null}
        <Text> · {state.trials.length} trials · </Text>
        <Text color="green">{c.done} done</Text>
        <Text> · </Text>
        <Text color="cyan">{c.running} running</Text>
        <Text> · {c.queued} queued · </Text>
        <Text color={c.failed > 0 ? 'red' : undefined}>{c.failed} failed</Text>
        {c.interrupted > 0 ? <Text color="yellow"> · {c.interrupted} interrupted</Text> : null}
        {c.stale > 0 ? <Text color="yellow"> · {c.stale} stale</Text> : null}
        {c.busy > 0 ? <Text dimColor> · {c.busy} elsewhere</Text> : null}
      </Text>
      <Text dimColor>
        elapsed {formatDuration((now - state.startedAt) / 1000)} · ETA {state.finished ? '-' : formatDuration(eta)} ·{' '}
        {state.parallelism ?? `concurrency ${state.concurrency}`}
        {state.message ? ` · ${state.message}` : ''}
      </Text>
      {state.rungs ? <Text color={state.rungs.testSelection ? 'yellow' : undefined}>{rungLine(state)}</Text> : null}
      {state.finished ? <Text>{`figures of the whole sweep: ${reportCommand(state.sweep, state.dbFile)}`}</Text> : null}
    </Box>
  );
}

export function RunningTrial({ trial, width, now }: { trial: TrialView; width: number; now: number }) {
  const { fraction, etaSec } = trialProgress(trial, now);
  const nameWidth = 14;
  // The rest of the line takes about 75 columns; the bar gets what is left (5..30), and the line truncates rather than wraps.
  const barWidth = Math.max(5, Math.min(30, width - nameWidth - 78));
  const started = trial.epochs > 0;
  return (
    <Box>
      <Text wrap="truncate-end">
        <Text color="cyan">{trial.name.slice(0, nameWidth).padEnd(nameWidth)}</Text> {bar(fraction, barWidth)}{' '}
        {started ? `epoch ${trial.epoch}/${trial.epochs} step ${trial.step}/${trial.stepsPerEpoch}` : 'starting…'}
        {trial.loss !== null ? `  loss ${trial.loss.toFixed(4)}` : ''}
        {formatTerms(trial.terms)}
        {trial.clipsPerSec !== null ? `  ${trial.clipsPerSec.toFixed(1)} clips/s` : ''}
        {`  ETA ${formatDuration(etaSec)}`}
        {trial.resumed ? <Text dimColor> (resumed)</Text> : null}
      </Text>
    </Box>
  );
}

/** Finished trials ranked by AUC, ours beside the paper's (its pAUC is McClish's, so ours is shown the same way). */
export function Leaderboard({ trials }: { trials: TrialView[] }) {
  const done = trials.filter((t) => t.status === 'done' && t.result).sort((a, b) => b.result!.auc - a.result!.auc);
  if (done.length === 0) return null;
  const w = Math.max(5, ...done.map((t) => t.name.length));
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text
        bold
      >{`${'#'.padStart(2)}  ${'trial'.padEnd(w)}  ${'AUC'.padStart(6)}  ${'pAUC*'.padStart(6)}  ${'paper'.padStart(13)}`}</Text>
      {done.map((t, i) => (
        <Text key={t.name} color={i === 0 ? 'green' : undefined}>
          {`${String(i + 1).padStart(2)}  ${t.name.padEnd(w)}  ${pct(t.result!.auc).padStart(6)}  ${pct(t.result!.paucMcclish).padStart(6)}  ${(t.paper ? `${t.paper.auc.toFixed(2)}/${t.paper.pauc.toFixed(2)}` : '-').padStart(13)}`}
        </Text>
      ))}
      <Text dimColor>pAUC* = McClish-standardised pAUC (scikit-learn), the one the paper reports; % of 100</Text>
    </Box>
  );
}

export function FinishedLine({ trial, dbFile }: { trial: TrialView; dbFile?: string }) {
  const took =
    trial.startedAt !== null && trial.finishedAt !== null
      ? formatDuration((trial.finishedAt - trial.startedAt) / 1000)
      : '';
  if (trial.status === 'done') {
    return (
      <Box flexDirection="column">
        <Text>
          <Text color="green">✓</Text> {trial.name} AUC {pct(trial.result?.auc)} pAUC* {pct(trial.result?.paucMcclish)}
          {trial.paper ? `  (paper ${trial.paper.auc.toFixed(2)}/${trial.paper.pauc.toFixed(2)})` : ''} {took}
        </Text>
        {trial.runId ? (
          <Text dimColor wrap="truncate-end">{`  figures: ${reportCommand(trial.runId, dbFile)}`}</Text>
        ) : null}
      </Box>
    );
  }
  if (trial.status === 'failed') {
    return (
      <Text>
        <Text color="red">✗</Text> {trial.name} failed: {(trial.error ?? '').split('\n')[0]}
      </Text>
    );
  }
  return (
    <Text>
      <Text color="yellow">…</Text> {trial.name} interrupted (resumable)
    </Text>
  );
}

/** Trials that finished while this dashboard was up, in the order they finished (append-only for <Static>). */
export function finishedHere(state: SweepState): TrialView[] {
  return state.trials
    .filter(
      (t) => t.finishedAt !== null && (t.status === 'done' || t.status === 'failed' || t.status === 'interrupted'),
    )
    .sort((a, b) => a.finishedAt! - b.finishedAt! || a.index - b.index);
}

export function SweepDashboard({ state, width, now }: { state: SweepState; width: number; now: number }) {
  const running = state.trials.filter((t) => t.status === 'running');
  return (
    <>
      <Static items={finishedHere(state)}>
        {(t) => (
          <FinishedLine
            key={`${t.index}-${t.finishedAt}`}
            trial={t}
            {...(state.dbFile ? { dbFile: state.dbFile } : {})}
          />
        )}
      </Static>
      <Box flexDirection="column">
        <Header state={state} now={now} />
        {running.length > 0 ? (
          <Box flexDirection="column" marginTop={1}>
            {running.map((t) => (
              <RunningTrial key={t.index} trial={t} width={width} now={now} />
            ))}
          </Box>
        ) : null}
        <Leaderboard trials={state.trials} />
      </Box>
    </>
  );
}
