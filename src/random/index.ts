/**
 * Every seeded generator of exp, in one place. Which stream serves what:
 * - mulberry32 / Rng: the synthetic set, data subsets and validation splits, weight
 *   initialisation (one stream per module, deriveSeed);
 * - SeededRandom (xoshiro128**): mixup's lambda and partners; its state is checkpointed;
 * - lcg32: benchmark inputs.
 * Each stream's first values are pinned by test/random-streams.test.ts: changing one changes
 * every stored run that depends on it.
 */
export { mulberry32, mulberry32Mix, MULBERRY32_STEP } from './mulberry32.js';
export { hashString, seedFrom, deriveSeed } from './seeds.js';
export { Rng } from './rng.js';
export { SeededRandom, type RandomState } from './xoshiro.js';
export { lcg32 } from './lcg.js';
