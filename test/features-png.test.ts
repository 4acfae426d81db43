import { test } from 'node:test';
import assert from 'node:assert/strict';
import pngjs from 'pngjs';
import { renderFeaturesPng, viridis, channelRange, type FeatureChannel } from '../src/features/png.js';

const { PNG } = pngjs;

function ramp(rows: number, frames: number): FeatureChannel {
  // Value = row index: row 0 (lowest frequency) is the smallest value.
  const data = new Float32Array(rows * frames);
  for (let r = 0; r < rows; r++) data.fill(r, r * frames, (r + 1) * frames);
  return { name: 'ramp', shape: [rows, frames], data, range: [0, rows - 1] };
}

function pixel(img: { width: number; data: Buffer }, x: number, y: number): [number, number, number] {
  const o = 4 * (y * img.width + x);
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

test('viridis runs from dark purple to yellow and is monotone in lightness', () => {
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  assert.deepEqual(viridis(-5), viridis(0));
  assert.deepEqual(viridis(Number.NaN), viridis(0));
  let prev = -1;
  for (let i = 0; i <= 100; i++) {
    const [r, g, b] = viridis(i / 100);
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    assert.ok(luma >= prev - 1e-9, `lightness drops at ${i / 100}`);
    prev = luma;
  }
});

test('the lowest row is drawn at the bottom and channels stack vertically', () => {
  const a = ramp(16, 40);
  const b = { ...ramp(8, 30), name: 'second' };
  const one = PNG.sync.read(renderFeaturesPng([a], { scaleX: 1, scaleY: 1 }));
  const two = PNG.sync.read(renderFeaturesPng([a, b], { scaleX: 1, scaleY: 1 }));
  assert.ok(two.height >= one.height + 8, 'the second channel adds height');
  // Find the channel image in the single-channel render: its top row is viridis(1), bottom viridis(0).
  const x = 8 + 20;
  const ys = [...Array(one.height).keys()];
  const top = ys.find((y) => pixel(one, x, y).join() === viridis(1).join());
  const bottom = ys.reverse().find((y) => pixel(one, x, y).join() === viridis(0).join());
  assert.ok(top !== undefined && bottom !== undefined);
  assert.equal(bottom - top, 15, 'the 16 rows span top..bottom with the highest row on top');
});

test('dB channels show the top dynamic range; other channels their percentiles', () => {
  const data = Float32Array.from([-100, -50, 0, 10]);
  assert.deepEqual(channelRange({ name: 'x', shape: [2, 2], data, unit: 'dB' }, 80), [-70, 10]);
  assert.deepEqual(channelRange({ name: 'x', shape: [2, 2], data, unit: 'dB' }, 200), [-100, 10]);
  const lin = Float32Array.from({ length: 1001 }, (_, i) => i);
  assert.deepEqual(channelRange({ name: 'y', shape: [1, 1001], data: lin }), [10, 990]);
});
