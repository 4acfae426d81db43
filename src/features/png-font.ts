/**
 * A 3×5 pixel font for the labels of feature images: enough for names, shapes and ranges without
 * a font-rendering dependency. Letters are upper case only; lower case input is shown upper case
 * and unknown characters as a blank.
 */
const GLYPHS: Record<string, string> = {
  A: '010101111101101',
  B: '110101110101110',
  C: '011100100100011',
  D: '110101101101110',
  E: '111100110100111',
  F: '111100110100100',
  G: '011100101101011',
  H: '101101111101101',
  I: '111010010010111',
  J: '001001001101010',
  K: '101101110101101',
  L: '100100100100111',
  M: '101111111101101',
  N: '110101101101101',
  O: '010101101101010',
  P: '110101110100100',
  Q: '010101101110011',
  R: '110101110101101',
  S: '011100010001110',
  T: '111010010010010',
  U: '101101101101111',
  V: '101101101101010',
  W: '101101111111101',
  X: '101101010101101',
  Y: '101101010010010',
  Z: '111001010100111',
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '110001010100111',
  '3': '110001010001110',
  '4': '101101111001001',
  '5': '111100110001110',
  '6': '011100111101111',
  '7': '111001010010010',
  '8': '111101111101111',
  '9': '111101111001110',
  '-': '000000111000000',
  '+': '000010111010000',
  '.': '000000000000010',
  ':': '000010000010000',
  _: '000000000000111',
  '/': '001001010100100',
  '(': '010100100100010',
  ')': '010001001001010',
  '=': '000111000111000',
  ',': '000000000010100',
  ' ': '000000000000000',
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** Calls `set(x, y)` for every lit pixel of `text` drawn at scale `s` from (x0, y0). */
export function drawText(text: string, x0: number, y0: number, s: number, set: (x: number, y: number) => void): void {
  let x = x0;
  for (const ch of text.toUpperCase()) {
    const g = GLYPHS[ch] ?? GLYPHS[' ']!;
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (g[gy * GLYPH_WIDTH + gx] !== '1') continue;
        for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) set(x + gx * s + dx, y0 + gy * s + dy);
      }
    }
    x += (GLYPH_WIDTH + 1) * s;
  }
}

/** Width in pixels of `text` drawn at scale `s`. */
export function textWidth(text: string, s: number): number {
  return text.length === 0 ? 0 : text.length * (GLYPH_WIDTH + 1) * s - s;
}
