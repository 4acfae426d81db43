import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalWatch {
  /** Aborted at the first SIGINT / SIGTERM, with the signal's name as the reason. */
  readonly signal: AbortSignal;
  /** 128 + the number of the first signal seen (130 for SIGINT, 143 for SIGTERM), or null. */
  exitCode(): number | null;
  dispose(): void;
}

export const exitCodeOf = (sig: StopSignal): number => 128 + constants.signals[sig];

/**
 * Ctrl-C and SIGTERM (kill, a batch system's time limit, scancel) as a clean stop: the first one
 * aborts `signal` so the run checkpoints and is marked interrupted; a second one calls onSecond,
 * by default leaving at once with 128 + signal number (the last checkpoint stays resumable).
 */
export function interruptOnSignals(
  o: { onFirst?: (sig: StopSignal) => void; onSecond?: (sig: StopSignal) => void } = {},
): SignalWatch {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  const handler = (sig: StopSignal) => {
    if (first === null) {
      first = sig;
      controller.abort(sig);
      o.onFirst?.(sig);
      return;
    }
    if (o.onSecond) o.onSecond(sig);
    else process.exit(exitCodeOf(first));
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    exitCode: () => (first === null ? null : exitCodeOf(first)),
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
