// npm run screenshots: regenerates docs/report-ablation.png and docs/report-run.png from the built-in
// synthetic set (the current default version), through the real commands:
//   1. exp sweep ablation --profile quick, shrunk (SHRINK below) so it trains in minutes, not an hour;
//   2. exp run experiments/fgaspecnet.yaml with the same settings plus an evaluation every epoch and a
//      validation split, for the learning-curve figure;
//   3. exp report ablation, photographed in headless chromium (tools/chromium.ts, no network) from its
//      first sweep heading down (the title block above holds the generation time); the run's learning
//      curves are the report's own figure (its vega-lite spec, drawn by resvg as `exp report --png`
//      does) with the subtitle naming the command instead of the run's random id.
// Training is seeded and deterministic, so the same code draws the same pictures. Runs go to their own
// store (runs/screenshots/exp.db; --db FILE to change): a second call trains nothing and only redraws.
//   node --import tsx tools/screenshots.ts [--db FILE] [--out DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumMissing, openChromium } from './chromium.js';
import { curvesFigure } from '../src/report/html/curves.js';
import { loadReport, specToSvg, svgToPng } from '../src/report/html/index.js';
import { withRunReader } from '../src/store/open.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const db = resolve(flag('--db', 'runs/screenshots/exp.db'));
const out = resolve(flag('--out', 'docs'));
const work = join(dirname(db), 'pages');
const CLI = resolve('dist/cli/main.js');

/** The quick profile of sweeps/ablation.yaml made smaller: fewer clips per ID and epochs. */
const SHRINK = ['data.maxClipsPerId=8', 'data.maxTestClipsPerId=10', 'train.epochs=4'];
/** The same run as one experiment: the quick profile's keys, SHRINK, and what the curves figure shows. */
const CURVES_RUN = [
  'data.seconds=2',
  'train.batchSize=16',
  'train.lr=0.001',
  ...SHRINK,
  'train.evalEvery=1',
  'train.valSplit=0.25',
];
const CURVES_NAME = 'screenshot-curves';
// wasm everywhere: `auto` could pick a GPU and draw (slightly) different numbers.
const COMMON = ['--db', db, '--backend', 'wasm'];

function exp(argv: string[], opts: { stdout?: boolean } = {}): string {
  const r = spawnSync(process.execPath, [CLI, ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', opts.stdout ? 'pipe' : 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    process.stderr.write(`screenshots: exp ${argv.join(' ')} exited ${r.status}\n`);
    process.exit(r.status ?? 2);
  }
  return r.stdout ?? '';
}

const sets = (keys: string[]) => keys.flatMap((k) => ['--set', k]);
const started = Date.now();
const lap = (what: string) =>
  process.stderr.write(`screenshots: ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);

function curvesRunId(): string | null {
  const runs = JSON.parse(exp(['runs', '--db', db, '--json'], { stdout: true })) as Array<{
    id: string;
    name: string;
    status: string;
  }>;
  return runs.find((r) => r.name === CURVES_NAME && r.status === 'done')?.id ?? null;
}

async function photograph(html: string, png: string): Promise<void> {
  const browser = await openChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    const top = await page.locator('h2').first().boundingBox();
    if (!top) throw new Error(`${html}: no sweep heading to start the picture at`);
    const y = Math.max(0, Math.floor(top.y) - 16);
    await page.screenshot({ path: png, fullPage: true, clip: { x: 0, y, width: 1400, height: 2000 } });
    if (browser.blocked.length) throw new Error(`the report asked for ${browser.blocked.join(', ')}`);
  } finally {
    await browser.close();
  }
}

const missing = chromiumMissing();
if (missing) {
  process.stderr.write(`screenshots: ${missing}\n`);
  process.exit(1);
}
if (!existsSync(CLI)) {
  process.stderr.write('screenshots: run npm run build first (dist/cli/main.js is missing)\n');
  process.exit(1);
}
mkdirSync(work, { recursive: true });

exp(['sweep', 'ablation', '--profile', 'quick', ...sets(SHRINK), '--no-dashboard', '--concurrency', '1', ...COMMON]);
lap('ablation sweep trained');
let runId = curvesRunId();
if (!runId) {
  exp(['run', 'experiments/fgaspecnet.yaml', '--name', CURVES_NAME, ...sets(CURVES_RUN), '--quiet', ...COMMON]);
  runId = curvesRunId();
  if (!runId) throw new Error(`no finished run named ${CURVES_NAME} after training it`);
}
lap('learning-curve run trained');

const ablationHtml = join(work, 'ablation.html');
exp(['report', 'ablation', '--out', ablationHtml, '--db', db]);
await photograph(ablationHtml, join(out, 'report-ablation.png'));
const input = await withRunReader(db, (store) => loadReport(store, [runId], db));
const run = input.groups.flatMap((g) => g.runs).find((r) => r.run.id === runId);
if (!run) throw new Error(`run ${runId} is not in its own report`);
const figure = curvesFigure('', run);
const spec = figure.spec as unknown as { title: { text: string; subtitle: string } };
spec.title.subtitle = `exp run experiments/fgaspecnet.yaml, quick profile, shrunk for the screenshot`;
writeFileSync(join(out, 'report-run.png'), svgToPng(await specToSvg(figure.spec)));
lap(`wrote ${join(out, 'report-ablation.png')} and ${join(out, 'report-run.png')}`);
