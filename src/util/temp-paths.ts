import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Temporary paths of exp's write-then-rename writers (checkpoints, --out files, the audio-check
 * cache, synthetic sets), named so that a leftover of a killed writer can be removed safely:
 *
 *   <target>.tmp-<pid>-<nonce>@<writer tag>
 *
 * The writer tag names the process space the pid belongs to: the host name for people to read,
 * then a hash of the host name, the kernel's boot id and the pid namespace (Linux; elsewhere the
 * host name alone). Two processes have the same tag only when they run on the same host, under the
 * same boot of its kernel and in the same pid namespace (a container has its own), i.e. when a pid
 * means the same process to both.
 *
 * A temporary path is removed only when its tag is this process's tag and no process with its pid
 * exists. Why that never removes a live writer's file, also on a cluster's shared filesystem:
 *  - a writer creates its temporary path with its own pid in the name, and writes only there;
 *  - a writer of another host, boot or container has another tag, so its paths are never touched
 *    (its pid means nothing here);
 *  - with our tag, a pid that does not exist here means that writer has exited; a later process
 *    that reuses the pid draws a new random nonce, so it never writes under the removed name
 *    (checking the pid and removing the path cannot race with it).
 * (Up to collisions of a 48-bit hash between two tags and of a 32-bit nonce after a pid is reused.)
 * A zombie or a reused pid only keeps a leftover longer. Leftovers this cannot judge stay: those of
 * another host or container (removed by a writer there), of an earlier boot, and the older
 * `<target>.tmp-<pid>` names, which say nothing about their host.
 *
 * The run's lease (runs.host/pid/heartbeat_at) is not used for this: it can pass to a new process
 * while the old one is alive but silent (a suspended laptop, a partitioned cluster node), and a
 * sweep's checkpoints are written by its trial process, not by the process holding the lease.
 */

let tag: string | null = null;

/** This process's writer tag (see above): `<host>-<12 hex digits>`. */
export function writerTag(): string {
  if (tag !== null) return tag;
  const host = hostname();
  const identity = [host];
  for (const read of [
    () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    () => readlinkSync('/proc/self/ns/pid'),
  ]) {
    try {
      identity.push(read());
    } catch {
      identity.push('-');
    }
  }
  const readable =
    host
      .split('.')[0]!
      .replace(/[^A-Za-z0-9-]/g, '')
      .slice(0, 32) || 'host';
  tag = `${readable}-${createHash('sha256').update(identity.join('\n')).digest('hex').slice(0, 12)}`;
  return tag;
}

/** A fresh temporary path for `target` (beside it; `hidden`: as a dot file, for --out directories). */
export function temporaryPath(target: string, opts: { hidden?: boolean } = {}): string {
  const name = `${opts.hidden ? '.' : ''}${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}@${writerTag()}`;
  return join(dirname(target), name);
}

const TEMPORARY = /\.tmp-(\d+)-[0-9a-f]{8}@([A-Za-z0-9-]+)$/;

/** True when a process with this pid exists on this machine (EPERM = exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary paths in `dir` left by writers of this tag that no longer exist (see
 * above); returns their names. Best effort: a directory that cannot be listed or an entry that
 * cannot be removed is left as it is (a leftover costs disk space, never correctness).
 */
export function removeDeadTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const mine = writerTag();
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (!m || m[2] !== mine) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Left for the next writer to try.
    }
  }
  return removed;
}
