import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { encodeWav } from '../src/audio/index.js';
import { ARCHIVES, selectArchives, archiveUrl } from '../src/data/get/manifest.js';
import { parseContentRange } from '../src/data/get/download.js';
import { unsafeEntryName } from '../src/data/get/extract.js';
import { parseMd5List } from '../src/data/get/verify.js';

// A local HTTP server stands in for Zenodo (this machine has no internet): it serves small zip
// archives in the published layout, built here with real WAV files from the project's writer.
// The CLI runs as a child process (asynchronously, so this process can answer it).

const main = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const base = mkdtempSync(join(tmpdir(), 'exp-data-get-'));
const RATE = 16000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exp(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, EXP_DATA_MIRROR: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

function userError(r: Run, ...parts: string[]): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  for (const p of parts)
    assert.ok(r.stderr.includes(p), `stderr ${JSON.stringify(r.stderr)} should mention ${JSON.stringify(p)}`);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
}

let seed = 1;
function wav(seconds = 0.05): Buffer {
  const n = Math.round(seconds * RATE);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    x[i] = 0.3 * Math.sin(i / 7) + 0.2 * (seed / 2147483648 - 0.5);
  }
  return Buffer.from(encodeWav(x, RATE));
}

interface Entry {
  name: string;
  data: Buffer;
  mode?: number;
}

function zip(entries: readonly Entry[]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const e of entries)
    z.addBuffer(e.data, e.name, { compress: false, ...(e.mode === undefined ? {} : { mode: e.mode }) });
  z.end();
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => res(Buffer.concat(chunks)));
    z.outputStream.on('error', rej);
  });
}

/** The published layout: <type>/train/normal_id_XX_*.wav, <type>/test/{normal,anomaly}_id_XX_*.wav. */
function devEntries(type: string, train = 3): Entry[] {
  const e: Entry[] = [];
  for (let i = 0; i < train; i++)
    e.push({ name: `${type}/train/normal_id_00_${String(i).padStart(8, '0')}.wav`, data: wav() });
  e.push({ name: `${type}/test/normal_id_00_00000000.wav`, data: wav() });
  e.push({ name: `${type}/test/anomaly_id_00_00000000.wav`, data: wav() });
  return e;
}

/** Evaluation test clips carry no label in their names. */
const evalTrainEntries = (type: string): Entry[] =>
  [0, 1].map((i) => ({ name: `${type}/train/normal_id_01_0000000${i}.wav`, data: wav() }));
const evalTestEntries = (type: string): Entry[] =>
  [0, 1].map((i) => ({ name: `${type}/test/id_01_0000000${i}.wav`, data: wav() }));

/** Renames an entry in the built archive (local header and central directory): yazl refuses hostile names itself. */
function rename(buf: Buffer, from: string, to: string): Buffer {
  assert.equal(from.length, to.length);
  const out = Buffer.from(buf);
  let at = out.indexOf(from);
  let n = 0;
  while (at >= 0) {
    out.write(to, at, 'latin1');
    n++;
    at = out.indexOf(from, at + 1);
  }
  assert.equal(n, 2, 'the name appears in the local header and the central directory');
  return out;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

type Mode = 'range' | 'no-range' | 'no-length';
interface Served {
  body: Buffer;
  mode: Mode;
  cutAfter?: number;
  /** With cutAfter: the cut waits until this holds (at most 60 s), e.g. until the client wrote the first bytes. */
  cutWhen?: () => boolean;
}

/** A small file server with the behaviours the tests need; it logs every request's Range header. */
class Mirror {
  files = new Map<string, Served>();
  log: Array<{ path: string; range: string | null }> = [];
  private server = createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/dcase`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/dcase\//, ''));
    const range = req.headers.range ?? null;
    this.log.push({ path: name, range });
    const f = this.files.get(name);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && f.mode === 'range') start = Number(m[1]);
    if (start >= f.body.length && start > 0) {
      res.writeHead(416, { 'Content-Range': `bytes */${f.body.length}` }).end();
      return;
    }
    const body = f.body.subarray(start);
    const headers: Record<string, string | number> = { 'Content-Type': 'application/zip' };
    if (f.mode !== 'no-length') headers['Content-Length'] = body.length;
    if (f.mode === 'range') headers['Accept-Ranges'] = 'bytes';
    if (start > 0) headers['Content-Range'] = `bytes ${start}-${f.body.length - 1}/${f.body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (f.cutAfter !== undefined) {
      // The server closes the connection mid-transfer (once), after the first bytes have gone out.
      // Waiting for cutWhen makes it independent of load: a cut that reaches the client before it has
      // read the first bytes would leave nothing to resume (a stream's error drops the bytes it holds).
      const cut = f.cutAfter;
      const ready = f.cutWhen ?? (() => true);
      delete f.cutAfter;
      const deadline = Date.now() + 60_000;
      const cutSoon = (): void => {
        if (ready() || Date.now() > deadline) setTimeout(() => res.socket?.end(), 50);
        else setTimeout(cutSoon, 20);
      };
      res.write(body.subarray(0, cut), cutSoon);
      return;
    }
    res.end(body);
  }
}

function checksums(dir: string, files: Record<string, Buffer>): string {
  const p = join(dir, 'MD5SUMS');
  writeFileSync(
    p,
    Object.entries(files)
      .map(([name, b]) => `${md5(b)}  ${name}\n`)
      .join(''),
  );
  return p;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${rel}${n}/`);
      else out.push(`${rel}${n}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

const mirror = new Mirror();
await mirror.start();
after(() => mirror.stop());

/** `exp data get` of one type's development archive from the mirror, verified against `checksums`. */
function getArgs(type: string, root: string, checksums: string): string[] {
  const from = ['--mirror', mirror.url, '--checksums', checksums];
  return ['data', 'get', 'dcase2020-task2', '--types', type, '--root', root, ...from];
}

let rootN = 0;
function freshRoot(): string {
  return join(base, `root-${++rootN}`);
}

test('the manifest: 18 archives from the three Zenodo records, each with a published MD5', () => {
  assert.equal(ARCHIVES.length, 18);
  for (const a of ARCHIVES) assert.match(a.md5 ?? '', /^[0-9a-f]{32}$/, a.file);
  assert.equal(new Set(ARCHIVES.map((a) => a.md5)).size, 18);
  assert.deepEqual(
    selectArchives(ARCHIVES, ['fan'], 'all').map((a) => a.file),
    ['dev_data_fan.zip', 'eval_data_train_fan.zip', 'eval_data_test_fan.zip'],
  );
  assert.deepEqual(
    selectArchives(ARCHIVES, ['pump', 'ToyCar'], 'dev').map((a) => a.file),
    ['dev_data_pump.zip', 'dev_data_ToyCar.zip'],
  );
  const toyCar = ARCHIVES.find((a) => a.file === 'dev_data_ToyCar.zip');
  assert.equal(archiveUrl(toyCar!, null), 'https://zenodo.org/record/3678171/files/dev_data_ToyCar.zip?download=1');
  assert.equal(archiveUrl(toyCar!, 'http://h/x/'), 'http://h/x/dev_data_ToyCar.zip');
});

test('Content-Range, entry names and md5sum lists are parsed strictly', () => {
  assert.deepEqual(parseContentRange('bytes 100-199/200'), { start: 100, total: 200 });
  assert.deepEqual(parseContentRange('bytes */200'), { start: null, total: 200 });
  assert.equal(parseContentRange('items 1-2/3'), null);
  assert.equal(unsafeEntryName('fan/train/normal_id_00_00000000.wav'), null);
  assert.match(unsafeEntryName('../x.wav') ?? '', /\.\./);
  assert.match(unsafeEntryName('fan/../../x') ?? '', /\.\./);
  assert.match(unsafeEntryName('/etc/passwd') ?? '', /absolute/);
  assert.match(unsafeEntryName('C:/x') ?? '', /absolute/);
  assert.match(unsafeEntryName('a\\b') ?? '', /backslash/);
  const m = parseMd5List(`# comment\n${'a'.repeat(32)}  dev_data_fan.zip\n${'B'.repeat(32)} *dev_data_pump.zip\n`, 'f');
  assert.deepEqual(
    [...m],
    [
      ['dev_data_fan.zip', 'a'.repeat(32)],
      ['dev_data_pump.zip', 'b'.repeat(32)],
    ],
  );
  assert.throws(() => parseMd5List('nothex  x.zip', 'f'), /f:1/);
});

test('success: dev and eval archives of one type are fetched, verified, unpacked, and exp data check passes; a rerun fetches nothing', async () => {
  const root = freshRoot();
  const dev = await zip(devEntries('fan'));
  const evalTrain = await zip(evalTrainEntries('fan'));
  const evalTest = await zip(evalTestEntries('fan'));
  mirror.files.set('dev_data_fan.zip', { body: dev, mode: 'range' });
  mirror.files.set('eval_data_train_fan.zip', { body: evalTrain, mode: 'range' });
  mirror.files.set('eval_data_test_fan.zip', { body: evalTest, mode: 'range' });
  const sums = checksums(base, {
    'dev_data_fan.zip': dev,
    'eval_data_train_fan.zip': evalTrain,
    'eval_data_test_fan.zip': evalTest,
  });
  // The mirror comes from the environment variable here.
  const r = await exp(
    ['data', 'get', 'dcase2020-task2', '--types', 'fan', '--part', 'all', '--root', root, '--checksums', sums],
    { EXP_DATA_MIRROR: mirror.url },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'nothing on stdout without --json');
  assert.match(r.stderr, /dev_data_fan\.zip: MD5 verified, 5 files unpacked/);
  assert.match(r.stderr, /dev_data passes exp data check \(5 clips\); eval_data: 4 clips decode/);
  assert.deepEqual(listFiles(join(root, 'dev_data')), [
    'fan/test/anomaly_id_00_00000000.wav',
    'fan/test/normal_id_00_00000000.wav',
    'fan/train/normal_id_00_00000000.wav',
    'fan/train/normal_id_00_00000001.wav',
    'fan/train/normal_id_00_00000002.wav',
  ]);
  assert.deepEqual(listFiles(join(root, 'eval_data')), [
    'fan/test/id_01_00000000.wav',
    'fan/test/id_01_00000001.wav',
    'fan/train/normal_id_01_00000000.wav',
    'fan/train/normal_id_01_00000001.wav',
  ]);
  assert.ok(!existsSync(join(root, 'downloads', 'dev_data_fan.zip')), 'archives are deleted once unpacked');
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.')),
    [],
    'no temporary directory left',
  );

  const check = spawnSync(process.execPath, [main, 'data', 'check', join(root, 'dev_data'), '--json'], {
    encoding: 'utf8',
  });
  assert.equal(check.status, 0, check.stderr);
  const s = JSON.parse(check.stdout) as { classes: number; audio: { checked: number; problems: unknown[] } };
  assert.equal(s.classes, 1);
  assert.equal(s.audio.checked, 5);

  const before = mirror.log.length;
  const again = await exp(
    [
      'data',
      'get',
      'dcase2020-task2',
      '--types',
      'fan',
      '--part',
      'all',
      '--root',
      root,
      '--checksums',
      sums,
      '--json',
    ],
    { EXP_DATA_MIRROR: mirror.url },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(mirror.log.length, before, 'nothing is downloaded again');
  const doc = JSON.parse(again.stdout) as {
    archives: Array<{ status: string }>;
    check: { dev: { classes: number }; problems: unknown[] };
  };
  assert.deepEqual(
    doc.archives.map((a) => a.status),
    ['already-unpacked', 'already-unpacked', 'already-unpacked'],
  );
  assert.equal(doc.check.dev.classes, 1);
});

test('a corrupted download and a wrong checksum: exit 1, nothing unpacked, the bad file deleted', async () => {
  const root = freshRoot();
  const good = await zip(devEntries('pump'));
  const bad = Buffer.from(good);
  bad[200] = (bad[200] as number) ^ 0xff; // one flipped byte inside the first WAV
  mirror.files.set('dev_data_pump.zip', { body: bad, mode: 'range' });
  const sums = checksums(join(base), { 'dev_data_pump.zip': good });
  const r = await exp(getArgs('pump', root, sums));
  userError(r, 'dev_data_pump.zip: MD5', `does not match the published ${md5(good)}`, 'nothing was unpacked');
  assert.ok(!existsSync(join(root, 'dev_data')));
  assert.ok(!existsSync(join(root, 'downloads', 'dev_data_pump.zip')));

  // The right bytes, but the checksum list is wrong: refused the same way.
  mirror.files.set('dev_data_pump.zip', { body: good, mode: 'range' });
  const wrong = join(base, 'WRONG');
  writeFileSync(wrong, `${'0'.repeat(32)}  dev_data_pump.zip\n`);
  userError(await exp(getArgs('pump', root, wrong)), `does not match the published ${'0'.repeat(32)}`);
  assert.ok(!existsSync(join(root, 'dev_data')));
});

test('an interrupted transfer keeps the .part and the rerun resumes it with a Range request', async () => {
  const root = freshRoot();
  const body = await zip(devEntries('slider', 6));
  const part = join(root, 'downloads', 'dev_data_slider.zip.part');
  const written = () => existsSync(part) && statSync(part).size > 0;
  mirror.files.set('dev_data_slider.zip', { body, mode: 'range', cutAfter: 7000, cutWhen: written });
  const sums = checksums(base, { 'dev_data_slider.zip': body });
  const args = getArgs('slider', root, sums);
  const first = await exp(args);
  userError(first, 'dev_data_slider.zip', 'rerun to resume');
  const kept = statSync(part).size;
  assert.ok(kept > 0 && kept <= 7000, `part holds ${kept} bytes`);
  assert.ok(!existsSync(join(root, 'dev_data')));

  const second = await exp(args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /resuming at/);
  const last = mirror.log.filter((l) => l.path === 'dev_data_slider.zip').at(-1);
  assert.equal(last?.range, `bytes=${kept}-`);
  assert.equal(listFiles(join(root, 'dev_data', 'slider')).length, 8);
  assert.ok(!existsSync(part));
});

test('a server without Range support: the rerun starts the file over and still ends verified', async () => {
  const root = freshRoot();
  const body = await zip(devEntries('valve', 6));
  mirror.files.set('dev_data_valve.zip', { body, mode: 'no-range' });
  const sums = checksums(base, { 'dev_data_valve.zip': body });
  const args = getArgs('valve', root, sums);
  // What an earlier cut-off run leaves (written here, since how many bytes reach the disk before a
  // cut depends on timing): the first bytes of the archive in the .part file.
  mkdirSync(join(root, 'downloads'), { recursive: true });
  writeFileSync(join(root, 'downloads', 'dev_data_valve.zip.part'), body.subarray(0, 5000));
  const second = await exp(args);
  const last = mirror.log.filter((l) => l.path === 'dev_data_valve.zip').at(-1);
  assert.equal(last?.range, 'bytes=5000-');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /does not support resuming/);
  assert.match(second.stderr, /MD5 verified, 8 files unpacked/);
});

test('a full disk: refused up front when the size is known; ENOSPC mid-transfer keeps the .part, and the rerun resumes', async (t) => {
  const body = await zip(devEntries('ToyCar', 40)); // ~180 KB
  const sums = checksums(base, { 'dev_data_ToyCar.zip': body });
  const disk = join(base, 'small-disk');
  mkdirSync(disk, { recursive: true });
  // A real full disk: a 64 KiB tmpfs (needs root, as on our machines and in CI). Without the
  // privilege to mount, the .part file is pointed at /dev/full, whose writes fail with ENOSPC.
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status === 0;
  t.diagnostic(mounted ? 'full disk: a 64 KiB tmpfs' : 'full disk: simulated with /dev/full (mount failed)');
  try {
    const root = join(disk, 'root');
    const args = getArgs('ToyCar', root, sums);
    if (mounted) {
      mirror.files.set('dev_data_ToyCar.zip', { body, mode: 'range' });
      userError(await exp(args), 'still to download', 'free space and rerun');
      assert.ok(!existsSync(join(root, 'downloads', 'dev_data_ToyCar.zip.part')), 'nothing written before the check');
    } else {
      mkdirSync(join(root, 'downloads'), { recursive: true });
      symlinkSync('/dev/full', join(root, 'downloads', 'dev_data_ToyCar.zip.part'));
    }
    // No Content-Length: the check cannot run, the disk fills during the transfer.
    mirror.files.set('dev_data_ToyCar.zip', { body, mode: 'no-length' });
    const full = await exp(args);
    userError(full, 'no space left on the device (ENOSPC)', 'free space and rerun to resume');
    if (!mounted) return;
    const part = join(root, 'downloads', 'dev_data_ToyCar.zip.part');
    const kept = statSync(part).size;
    assert.ok(kept > 0, 'the partial file is kept');
    // More room, and a server that resumes: the rerun continues from the kept bytes.
    assert.equal(spawnSync('mount', ['-o', 'remount,size=2m', disk]).status, 0);
    mirror.files.set('dev_data_ToyCar.zip', { body, mode: 'range' });
    const resumed = await exp(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(mirror.log.filter((l) => l.path === 'dev_data_ToyCar.zip').at(-1)?.range, `bytes=${kept}-`);
    assert.equal(listFiles(join(root, 'dev_data', 'ToyCar')).length, 42);
  } finally {
    if (mounted) spawnSync('umount', [disk]);
  }
});

test('hostile archives (zip-slip "..", an absolute path, a symbolic link) are refused whole', async () => {
  const outside = join(base, 'outside');
  mkdirSync(outside, { recursive: true });
  const absTarget = join(outside, 'abs-evil.wav');
  const cases: Array<{ name: string; build: () => Promise<Buffer>; why: string }> = [
    {
      name: 'zip-slip',
      why: '".." path component',
      build: async () =>
        rename(
          await zip([...devEntries('fan'), { name: 'zz/slip-evil.wav', data: wav() }]),
          'zz/slip-evil.wav',
          '../slip-evil.wav',
        ),
    },
    {
      name: 'absolute',
      why: 'an absolute path',
      build: async () =>
        rename(
          await zip([...devEntries('fan'), { name: `z${absTarget.slice(1)}`, data: wav() }]),
          `z${absTarget.slice(1)}`,
          absTarget,
        ),
    },
    {
      name: 'symlink',
      why: 'a symbolic link',
      build: () =>
        zip([
          { name: 'fan/train/normal_id_00_00000009.wav', data: Buffer.from('/etc/passwd'), mode: 0o120777 },
          ...devEntries('fan'),
        ]),
    },
  ];
  for (const c of cases) {
    const root = freshRoot();
    const body = await c.build();
    mirror.files.set('dev_data_fan.zip', { body, mode: 'range' });
    const sums = checksums(base, { 'dev_data_fan.zip': body });
    const r = await exp(getArgs('fan', root, sums));
    userError(r, 'refusing to unpack the entry', c.why, 'nothing was unpacked');
    assert.deepEqual(listFiles(join(root, 'dev_data')), [], `${c.name}: nothing unpacked`);
    assert.ok(
      !existsSync(join(root, 'slip-evil.wav')) && !existsSync(join(root, 'downloads', 'slip-evil.wav')),
      `${c.name}: nothing beside the root`,
    );
    assert.deepEqual(readdirSync(outside), [], `${c.name}: nothing at the absolute path`);
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('.')),
      [],
      `${c.name}: no temporary directory left`,
    );
  }
});

test("the user's existing files are never replaced: exit 1 naming the file, nothing moved in, the archive kept", async () => {
  const root = freshRoot();
  const body = await zip(devEntries('fan'));
  mirror.files.set('dev_data_fan.zip', { body, mode: 'range' });
  const sums = checksums(base, { 'dev_data_fan.zip': body });
  const mine = join(root, 'dev_data', 'fan', 'train', 'normal_id_00_00000001.wav');
  mkdirSync(join(root, 'dev_data', 'fan', 'train'), { recursive: true });
  writeFileSync(mine, 'my own recording');
  const r = await exp(getArgs('fan', root, sums));
  userError(r, mine, 'already exists', 'never replaces a file it did not write');
  assert.equal(readFileSync(mine, 'utf8'), 'my own recording');
  assert.deepEqual(
    listFiles(join(root, 'dev_data')),
    ['fan/train/normal_id_00_00000001.wav'],
    'none of the archive was moved in',
  );
  assert.ok(existsSync(join(root, 'downloads', 'dev_data_fan.zip')), 'the verified archive is kept for the rerun');
  rmSync(mine);
  const again = await exp(getArgs('fan', root, sums));
  assert.equal(again.code, 0, again.stderr);
});

test('a file without a known checksum is refused before any download unless --allow-unverified', async () => {
  const root = freshRoot();
  const body = await zip(devEntries('pump'));
  mirror.files.set('dev_data_pump.zip', { body, mode: 'range' });
  const none = join(base, 'EMPTY');
  writeFileSync(none, '# no entries\n');
  const before = mirror.log.length;
  const args = getArgs('pump', root, none);
  userError(await exp(args), 'no published checksum is known for dev_data_pump.zip', '--allow-unverified');
  assert.equal(mirror.log.length, before, 'nothing was requested');
  const r = await exp([...args, '--allow-unverified']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /UNVERIFIED/);
  assert.match(r.stderr, /MD5 NOT verified/);
});

test('--dry-run lists the archives with sizes and state and downloads nothing; bad flags exit 1', async () => {
  const root = freshRoot();
  const before = mirror.log.length;
  const r = await exp([
    'data',
    'get',
    'dcase2020-task2',
    '--part',
    'all',
    '--root',
    root,
    '--mirror',
    mirror.url,
    '--dry-run',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /dev_data_fan\.zip\s+~1\.4 GB\s+to download/);
  assert.match(r.stderr, /18 of 18 archives to fetch/);
  const j = await exp(['data', 'get', 'dcase2020-task2', '--types', 'fan', '--root', root, '--dry-run', '--json']);
  const doc = JSON.parse(j.stdout) as { archives: Array<{ file: string; url: string; md5: string }> };
  assert.deepEqual(
    doc.archives.map((a) => a.url),
    ['https://zenodo.org/record/3678171/files/dev_data_fan.zip?download=1'],
  );
  assert.equal(mirror.log.length, before);
  assert.ok(!existsSync(root), 'a dry run writes nothing');
  userError(await exp(['data', 'get', 'dcase2019']), 'unknown dataset "dcase2019"', 'dcase2020-task2');
  userError(await exp(['data', 'get', 'dcase2020-task2', '--types', 'fan,drill']), '--types', 'drill');
  userError(await exp(['data', 'get', 'dcase2020-task2', '--part', 'test']), '--part');
  userError(await exp(['data', 'get', 'dcase2020-task2', '--mirror', 'ftp://x']), '--mirror');
  userError(
    await exp(['data', 'get', 'dcase2020-task2', '--root', root], { EXP_DATA_MIRROR: 'file:///srv' }),
    'EXP_DATA_MIRROR',
  );
});
