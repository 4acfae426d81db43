import type * as Tf from '@tensorflow/tfjs';

/**
 * What a command that computes loads when it runs, not when exp starts: tfjs alone costs about
 * 0.45 s of start-up, ink, the wasm backend and pg more, and `exp runs`, `exp show`, `--help`
 * need none of them. The commands register their flags from light modules and import their
 * action's module through computeAction.
 */

/**
 * tfjs in PROD mode, which silences its console banner about installing tfjs-node
 * (docs/backend.md says how to use it). Set before any command computes, as main did at start-up.
 */
export async function loadTfjs(): Promise<typeof Tf> {
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  return tf;
}

/** A command's action imported when the command runs (`load` returns it), with tfjs set up first. */
export function computeAction<A extends unknown[]>(
  load: () => Promise<(...args: A) => Promise<void>>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await loadTfjs();
    const run = await load();
    await run(...args);
  };
}
