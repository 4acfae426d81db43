/**
 * ROC metrics throughput: rocMetrics (AUC, pAUC, McClish pAUC) on n random scores, the median of
 * a few repeats. Moved here from test/metrics-roc.test.ts, where a timed assertion depended on
 * the machine's load. Run by `npm run bench`, or alone: node --import tsx bench/roc.ts [--n N]
 */
import { parseArgs } from 'node:util';
import { rocMetrics } from '../src/metrics/roc.js';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '1000000' }, repeats: { type: 'string', default: '5' } },
});
const n = Number(values.n);
const repeats = Number(values.repeats);
if (!Number.isInteger(n) || n < 2 || !Number.isInteger(repeats) || repeats < 1) {
  process.stderr.write('bench/roc.ts: --n takes a whole number >= 2, --repeats a positive whole number\n');
  process.exit(1);
}
const y = new Uint8Array(n);
const s = new Float64Array(n);
let seed = 12345;
for (let i = 0; i < n; i++) {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  y[i] = i % 2;
  s[i] = seed / 2 ** 32 + 0.1 * y[i]!;
}
const times: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  rocMetrics(y, s);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(
  `rocMetrics on ${n} scores: median ${times[Math.floor(repeats / 2)]!.toFixed(0)} ms over ${repeats} repeats`,
);
