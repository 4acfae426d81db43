import { createRequire } from 'node:module';
import { mayHaveGpu } from './webgpu.js';
import type { BackendName } from './select.js';

/**
 * The backend trial processes will pick, told before any of them starts and without loading a
 * backend here (the sweep's own process trains nothing): for `--backend auto` the same order as
 * initBackend's, judged from what is installed and which device nodes exist. A prediction: with
 * a GPU device node, auto may still fall back to wasm when Dawn finds no hardware adapter.
 */
export function predictBackend(
  name: BackendName,
  installed: (pkg: string) => boolean = isInstalled,
  gpuNode: () => boolean = mayHaveGpu,
): { name: Exclude<BackendName, 'auto'>; predicted: boolean } {
  if (name !== 'auto') return { name, predicted: false };
  if (gpuNode() && installed('webgpu')) return { name: 'webgpu', predicted: true };
  if (installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node'))
    return { name: 'tensorflow', predicted: true };
  return { name: 'wasm', predicted: true };
}

const require = createRequire(import.meta.url);

/** True when the package resolves from here (it is not loaded). */
function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
