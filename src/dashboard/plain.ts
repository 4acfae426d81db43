import { formatDuration, formatTerms, pct } from '../util/format.js';
import { queueCounts, rungLine, sweepEta, trialProgress } from './derive.js';
import type { SweepState, SweepStateStore, TrialView } from '../sweep/state.js';

function counts(s: SweepState): string {
  const c = queueCounts(s);
  return `${c.done} done, ${c.running} running, ${c.queued} queued, ${c.failed} failed`;
}

function resultText(t: TrialView): string {
  const ours = t.result
    ? `AUC ${pct(t.result.auc)}  pAUC ${pct(t.result.pauc)}  pAUC(McClish) ${pct(t.result.paucMcclish)}`
    : 'no result';
  return t.paper ? `${ours}  (paper ${t.paper.auc.toFixed(2)} / ${t.paper.pauc.toFixed(2)})` : ours;
}

/**
 * Off a TTY (CI, `| tee`, --no-dashboard): one plain line per event worth a line — a trial
 * starting or finishing, an epoch ending, the sweep's state changing. Never rewrites lines.
 */
export function attachPlainProgress(store: SweepStateStore, write: (line: string) => void): () => void {
  let prev: SweepState = store.get();
  const n = prev.trials.length;
  const c0 = queueCounts(prev);
  write(
    `sweep ${prev.sweep}${prev.profile ? ` (profile ${prev.profile})` : ''}: ${n} trials, ${c0.done} already done, ${c0.failed} failed earlier, ${c0.busy} running elsewhere; ${prev.parallelism ?? `concurrency ${prev.concurrency}`}`,
  );
  const onChange = (): void => {
    const s = store.get();
    const now = Date.now();
    for (const t of s.trials) {
      // An adaptive sweep adds trials as it samples them: a new one was 'queued' before.
      const p = prev.trials[t.index] ?? { ...t, status: 'queued' as const, lastEpoch: null };
      const tag = `[${t.index + 1}/${Math.max(n, s.trials.length)}] ${t.name}`;
      if (t.status !== p.status) {
        if (t.status === 'running')
          write(`${tag}: started${t.resumed ? ' (resuming from its last checkpoint)' : ''}  [${counts(s)}]`);
        else if (t.status === 'done') {
          const took =
            t.startedAt !== null && t.finishedAt !== null
              ? ` in ${formatDuration((t.finishedAt - t.startedAt) / 1000)}`
              : '';
          write(`${tag}: done${took}: ${resultText(t)}  [${counts(s)}]`);
        } else if (t.status === 'failed') write(`${tag}: FAILED: ${(t.error ?? '').split('\n')[0]}  [${counts(s)}]`);
        else if (t.status === 'interrupted') write(`${tag}: interrupted (resumable)`);
        else if (t.status === 'busy') write(`${tag}: running in another process, skipped`);
        else if (t.status === 'paused' || t.status === 'pruned' || t.status === 'promoted')
          write(`${tag}: ${t.status}: ${(t.error ?? '').split('\n')[0]}`);
        else if (t.status === 'stale')
          write(
            `${tag}: stale (stored as running, no heartbeat within the lease; its worker is probably gone and the next one resumes it)`,
          );
      } else if (t.status === 'running' && t.lastEpoch && t.lastEpoch !== p.lastEpoch) {
        const { etaSec } = trialProgress(t, now);
        const e = t.lastEpoch;
        write(
          `${tag}: epoch ${e.epoch}/${t.epochs} loss ${e.loss.toFixed(4)}${formatTerms(t.terms)}  ${e.clipsPerSec.toFixed(1)} clips/s  trial ETA ${formatDuration(etaSec)}  sweep ETA ${formatDuration(sweepEta(s, now))}`,
        );
      }
    }
    const rl = rungLine(s);
    if (rl !== null && rl !== rungLine(prev)) write(`sweep ${s.sweep}: ${rl}`);
    if (s.message !== prev.message && s.message) write(`sweep ${s.sweep}: ${s.message}  [${counts(s)}]`);
    prev = s;
  };
  return store.subscribe(onChange);
}
