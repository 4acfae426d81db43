import { render } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { SweepDashboard } from './components.js';
import type { SweepStateStore } from '../sweep/state.js';

function useTerminalWidth(stdout: NodeJS.WriteStream): number {
  const [width, setWidth] = useState(stdout.columns || 80);
  useEffect(() => {
    const onResize = () => setWidth(stdout.columns || 80);
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return width;
}

/** Re-renders once a second so elapsed time and ETAs move even between events. */
function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function LiveSweepDashboard({ store, stdout }: { store: SweepStateStore; stdout: NodeJS.WriteStream }) {
  const state = useSyncExternalStore(store.subscribe, store.get);
  const width = useTerminalWidth(stdout);
  const now = useNow();
  return <SweepDashboard state={state} width={width} now={Math.max(now, Date.now() - 1000)} />;
}

export interface DashboardHandle {
  /** Draws the final frame and releases the terminal. */
  close(): Promise<void>;
}

/**
 * The live sweep dashboard (Ink). Commands call this and never write JSX. Ctrl-C is left to the
 * command (exitOnCtrlC off) so trials can be marked interrupted before exiting.
 */
export function renderSweepDashboard(
  store: SweepStateStore,
  stdout: NodeJS.WriteStream = process.stdout,
): DashboardHandle {
  const app = render(<LiveSweepDashboard store={store} stdout={stdout} />, {
    stdout,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    async close() {
      store.flush();
      await new Promise((r) => setTimeout(r, 50));
      app.unmount();
      await app.waitUntilExit().catch(() => undefined);
    },
  };
}
