import pngjs from 'pngjs';
import { drawText, GLYPH_HEIGHT, textWidth } from './png-font.js';

const { PNG } = pngjs;

/**
 * Renders feature maps (log-Mel and, once the model zoo adds them, the Tgram / TAgram / SpecNet
 * channels of paper §2.1-2.2) as one PNG a person can read: channels stacked top to bottom, each
 * under a label, row 0 of a channel (the lowest frequency) at the bottom, time to the right,
 * values through the viridis colour map (perceptually uniform, readable in grey scale).
 */

export interface FeatureChannel {
  /** Shown in the label, e.g. "logmel". */
  name: string;
  /** [rows, frames]; data is row-major (data[r * frames + t]), row 0 drawn at the bottom. */
  shape: [number, number];
  data: Float32Array;
  /** Unit shown in the label; 'dB' channels are shown over `dynamicRange` dB below their maximum. */
  unit?: string;
  /** Fixed colour range [low, high]; default: per channel (see `unit`), else its 1st..99th percentile. */
  range?: [number, number];
}

export interface RenderOptions {
  /** Pixels per frame (horizontal) and per row (vertical). Default 2 and 2. */
  scaleX?: number;
  scaleY?: number;
  /** Range shown for 'dB' channels, below their maximum. Default 80 dB. */
  dynamicRange?: number;
  /** Frames per second: draws a tick every second under each channel when given. */
  framesPerSecond?: number;
}

// matplotlib's viridis sampled at 0, 0.1, ..., 1; linear interpolation between the stops.
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [72, 36, 117],
  [65, 68, 135],
  [53, 95, 141],
  [42, 120, 142],
  [33, 145, 140],
  [34, 168, 132],
  [68, 191, 112],
  [122, 209, 81],
  [189, 223, 38],
  [253, 231, 37],
];

/** Viridis colour of u in [0, 1] (clamped; NaN shows as the lowest colour). */
export function viridis(u: number): [number, number, number] {
  const x = (u > 0 ? (u < 1 ? u : 1) : 0) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!,
    b = VIRIDIS[i + 1]!;
  return [
    Math.round(a[0] + f * (b[0] - a[0])),
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
  ];
}

/** The colour range of a channel: its own, the top `dynamicRange` dB, or the 1st..99th percentile. */
export function channelRange(ch: FeatureChannel, dynamicRange = 80): [number, number] {
  if (ch.range) return ch.range;
  const finite = Array.from(ch.data).filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  if (ch.unit === 'dB') {
    const max = finite.reduce((a, b) => (b > a ? b : a), -Infinity);
    const min = finite.reduce((a, b) => (b < a ? b : a), Infinity);
    return [Math.max(min, max - dynamicRange), max];
  }
  finite.sort((a, b) => a - b);
  const q = (p: number): number => finite[Math.min(finite.length - 1, Math.floor(p * (finite.length - 1)))]!;
  return [q(0.01), q(0.99)];
}

const PAD = 8;
const FONT = 2;
const LABEL_H = GLYPH_HEIGHT * FONT + 6;
const TICK_H = 5;
const GAP = 10;
const BACKGROUND: [number, number, number] = [24, 24, 28];
const INK: [number, number, number] = [230, 230, 230];

/** Encodes the channels as a PNG (see the module comment for the layout). */
export function renderFeaturesPng(channels: readonly FeatureChannel[], opts: RenderOptions = {}): Buffer {
  if (channels.length === 0) throw new RangeError('renderFeaturesPng needs at least one channel');
  const sx = opts.scaleX ?? 2;
  const sy = opts.scaleY ?? 2;
  const fps = opts.framesPerSecond;
  const labels = channels.map((ch) => {
    const [lo, hi] = channelRange(ch, opts.dynamicRange);
    const unit = ch.unit ? ` ${ch.unit}` : '';
    return { text: `${ch.name}  ${ch.shape[0]}x${ch.shape[1]}  ${lo.toFixed(1)} to ${hi.toFixed(1)}${unit}`, lo, hi };
  });
  const contentW = Math.max(...channels.map((c) => c.shape[1] * sx), ...labels.map((l) => textWidth(l.text, FONT)));
  const width = 2 * PAD + contentW;
  const ticks = fps !== undefined && fps > 0 ? TICK_H : 0;
  const blockH = (c: FeatureChannel): number => LABEL_H + c.shape[0] * sy + ticks;
  const height = 2 * PAD + channels.reduce((h, c) => h + blockH(c), 0) + GAP * (channels.length - 1);

  const png = new PNG({ width, height });
  const px = png.data;
  const set = (x: number, y: number, c: readonly [number, number, number]): void => {
    const o = 4 * (y * width + x);
    px[o] = c[0];
    px[o + 1] = c[1];
    px[o + 2] = c[2];
    px[o + 3] = 255;
  };
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) set(x, y, BACKGROUND);

  let y0 = PAD;
  channels.forEach((ch, ci) => {
    const { text, lo, hi } = labels[ci]!;
    drawText(text, PAD, y0, FONT, (x, y) => set(x, y, INK));
    const top = y0 + LABEL_H;
    const [rows, frames] = ch.shape;
    const span = hi > lo ? hi - lo : 1;
    for (let r = 0; r < rows; r++) {
      // Row 0 (lowest frequency) at the bottom.
      const py = top + (rows - 1 - r) * sy;
      for (let t = 0; t < frames; t++) {
        const c = viridis((ch.data[r * frames + t]! - lo) / span);
        for (let dy = 0; dy < sy; dy++) for (let dx = 0; dx < sx; dx++) set(PAD + t * sx + dx, py + dy, c);
      }
    }
    if (ticks > 0) {
      const bottom = top + rows * sy;
      for (let s = 0; s * fps! < frames; s++) {
        const x = PAD + Math.round(s * fps! * sx);
        for (let dy = 0; dy < TICK_H - 1; dy++) set(x, bottom + dy, INK);
      }
    }
    y0 += blockH(ch) + GAP;
  });
  return PNG.sync.write(png);
}
