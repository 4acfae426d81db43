/**
 * The most trials a sweep expands to unless its YAML (`maxTrials:`) or `--max-trials` says more.
 * Each trial is a validated config held in memory (about 12 KiB and 0.5 ms each: a 10^5-point
 * grid took 48 s and 1.2 GB before printing anything), and each is a training run: a grid past
 * this size is far more likely a typo than a plan. Its own module: `exp sweep --help` names it
 * without loading the sweep reader, which imports the parts (and tfjs).
 */
export const DEFAULT_MAX_TRIALS = 10_000;
