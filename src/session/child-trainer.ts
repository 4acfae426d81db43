import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainOptions } from '../train/events.js';
import { UserError } from '../util/errors.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** The child entry beside this file: compiled JS under dist/, TypeScript when running under tsx. */
function childEntry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts'))
    return { file: self.replace(/child-trainer\.ts$/, 'trainer-child.ts'), execArgv: ['--import', 'tsx'] };
  const keep = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));
  return { file: self.replace(/child-trainer\.js$/, 'trainer-child.js'), execArgv: keep };
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * A Trainer that trains in a child process (one per sweep trial, so trials can run side by side and
 * a crash takes down one trial only). Events come back over IPC and are handed to onEvent in order;
 * the child's output goes to `<run dir>/worker.log`. Aborting asks the child to stop (it
 * checkpoints); after `graceSeconds` it is killed; kill() kills it at once.
 */
export class ChildTrainer {
  private child: ChildProcess | null = null;

  /** `env`: the child's environment (default this process's), e.g. with the sweep's EXP_THREADS. */
  constructor(
    private readonly graceSeconds = 10,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  readonly train = async (t: TrainOptions): Promise<void> => {
    // Plug-in files travel in the config (config.plugins: path + sha256); the child loads and checks
    // them itself. A script's ContainerModules are live objects and cannot cross the process boundary.
    if (t.extraModules?.length)
      throw new UserError(
        "a script's plug-in ContainerModules cannot reach a trainer in a child process; put the parts in a plug-in file (--plugin, plugins:) or train in-process",
      );
    mkdirSync(t.runDir, { recursive: true });
    const logFile = join(t.runDir, 'worker.log');
    const log = openSync(logFile, 'a');
    const { file, execArgv } = childEntry();
    const child = fork(file, [], {
      execArgv,
      stdio: ['ignore', log, log, 'ipc'],
      ...(this.env ? { env: this.env } : {}),
    });
    closeSync(log);
    this.child = child;
    let result: FromWorker | null = null;
    let relayError: unknown = null;
    let relayed = Promise.resolve();
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'result') {
        result = msg;
        return;
      }
      relayed = relayed.then(async () => {
        if (relayError !== null) return;
        try {
          await t.onEvent(msg.event);
        } catch (e) {
          relayError = e;
          child.kill('SIGKILL');
        }
      });
    });
    const onAbort = () => {
      if (child.connected)
        child.send({
          type: 'stop',
          ...(typeof t.signal?.reason === 'string' ? { reason: t.signal.reason } : {}),
        } satisfies ToWorker);
      setTimeout(() => child.kill('SIGKILL'), this.graceSeconds * 1000).unref();
    };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('exit', (code, signal) => done({ code, signal })),
    );
    child.send({
      type: 'run',
      config: t.config,
      runDir: t.runDir,
      backend: t.backend,
      resumeFrom: t.resumeFrom ?? null,
      ...(t.pauseAt ? { pauseAt: t.pauseAt } : {}),
    } satisfies ToWorker);
    if (t.signal?.aborted) onAbort();
    else t.signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await exited;
    t.signal?.removeEventListener('abort', onAbort);
    this.child = null;
    await relayed;
    if (relayError !== null) throw relayError;
    const r = result as FromWorker | null;
    if (r?.type === 'result' && r.ok) return;
    // Stopped by a signal of its own (SIGTERM sent to it alone): the caller marks the run interrupted.
    if (r?.type === 'result' && r.aborted) throw new DOMException(r.message, 'AbortError');
    if (r?.type === 'result') throw r.userError ? new UserError(r.message) : new Error(r.message);
    const why = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const last = tail(logFile);
    throw new Error(`trainer process exited with ${why}${last ? `:\n${last}` : ''} (log: ${logFile})`);
  };
}
