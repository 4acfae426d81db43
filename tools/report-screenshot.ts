// Screenshot of an exp report for docs/: node --import tsx tools/report-screenshot.ts report.html out.png [height]
// Opens the page in headless chromium (tools/chromium.ts: no network) and captures the top `height`
// pixels (default 2200) of a 1400-pixel-wide page; `full` captures the whole page.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumMissing, openChromium } from './chromium.js';

const [html, out, height = '2200'] = process.argv.slice(2);
if (!html || !out) {
  process.stderr.write('usage: node --import tsx tools/report-screenshot.ts report.html out.png [height|full]\n');
  process.exit(1);
}
const missing = chromiumMissing();
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}
const browser = await openChromium();
try {
  const page = await browser.context.newPage();
  await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });
  if (height === 'full') await page.screenshot({ path: out, fullPage: true });
  else await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1400, height: Number(height) } });
  if (browser.blocked.length)
    process.stderr.write(`note: the page asked for ${browser.blocked.join(', ')} (blocked)\n`);
  process.stderr.write(`wrote ${out}\n`);
} finally {
  await browser.close();
}
