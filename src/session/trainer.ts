import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Trainer } from '../train/events.js';

/**
 * The trainer a session runs in this process: src/train, unless EXP_TRAINER_MODULE (a test and
 * development hook) names a module exporting `train: Trainer` instead; the tests use
 * test/fixtures/fake-trainer.mjs. Imported lazily: tfjs loads only when a run starts.
 */
export async function loadTrainer(): Promise<Trainer> {
  const hook = process.env.EXP_TRAINER_MODULE;
  const url = hook
    ? /^[a-z]+:/i.test(hook)
      ? hook
      : pathToFileURL(isAbsolute(hook) ? hook : resolve(hook)).href
    : new URL('../train/index.js', import.meta.url).href;
  const mod = (await import(url)) as { train?: Trainer };
  if (typeof mod.train !== 'function') throw new Error(`${url} does not export train()`);
  return mod.train;
}
