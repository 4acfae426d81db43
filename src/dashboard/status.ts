import { formatDuration, pct } from '../util/format.js';
import { queueCounts, rungLine } from './derive.js';
import type { SweepState, TrialView } from '../sweep/state.js';

function progress(t: TrialView): string {
  if (t.status === 'running')
    return t.epochs > 0 ? `epoch ${t.step > 0 ? t.epoch : t.epoch - 1}/${t.epochs}` : 'starting';
  if (t.status === 'done' && t.startedAt !== null && t.finishedAt !== null)
    return `in ${formatDuration((t.finishedAt - t.startedAt) / 1000)}`;
  if (t.status === 'stale')
    return t.heartbeatAt ? `silent ${formatDuration((Date.now() - t.heartbeatAt) / 1000)}` : 'no heartbeat';
  return '';
}

/** A sweep's trials as a plain table (exp sweep status, and the end of a followed sweep). */
export function formatSweepStatus(s: SweepState): string {
  const c = queueCounts(s);
  const width = Math.max(5, ...s.trials.map((t) => t.name.length));
  const lines = [
    `sweep ${s.sweep}${s.profile ? ` (profile ${s.profile})` : ''}: ${c.done} done, ${c.running} running, ${c.queued} queued, ${c.interrupted} interrupted, ${c.failed} failed${c.stale > 0 ? `, ${c.stale} stale (running, no heartbeat within the lease)` : ''}`,
  ];
  const rl = rungLine(s);
  if (rl !== null) lines.push(rl);
  lines.push(
    `${'trial'.padEnd(width)}  ${'status'.padEnd(11)}  ${'progress'.padEnd(14)}  ${'AUC'.padStart(6)}  ${'pAUC'.padStart(6)}  run`,
  );
  for (const t of s.trials) {
    const err =
      (t.status === 'failed' || t.status === 'pruned' || t.status === 'paused' || t.status === 'interrupted') && t.error
        ? `  ${t.error.split('\n')[0]}`
        : '';
    lines.push(
      `${t.name.padEnd(width)}  ${t.status.padEnd(11)}  ${progress(t).padEnd(14)}  ${pct(t.result?.auc).padStart(6)}  ${pct(t.result?.pauc).padStart(6)}  ${t.runId ?? '-'}${err}`,
    );
  }
  return lines.join('\n');
}
