import * as tf from '@tensorflow/tfjs';
import { f32, sizeOf, type WasmBackend } from './wasm-util.js';

/**
 * A float32 tensor whose values `fill` writes, for the model inputs built on the host each batch.
 * On wasm the values are written straight into the backend's heap. A Float32Array the size of
 * the batch (2.6 MB a training step at 16 clips of 2 s, 10 MB a scoring batch of 64), allocated
 * per batch and copied in by tf.tensor, kept V8's external memory growing and set off a full
 * collection every few steps: epochs 2-3 of a quick run (66 steps, `node --trace-gc`) had 17 with
 * 412 ms of pauses, 3 with 38 ms once written in place.
 * Other backends get the array itself (the cpu backend keeps it as the tensor's data, so it is
 * never reused). The same `fill` writes the same float32 values either way, over zeros as a new
 * array's.
 */
export function filledTensor(shape: number[], fill: (out: Float32Array) => void): tf.Tensor {
  if (tf.getBackend() !== 'wasm') {
    const values = new Float32Array(sizeOf(shape));
    fill(values);
    return tf.tensor(values, shape, 'float32');
  }
  const backend = tf.backend() as unknown as WasmBackend;
  const info = backend.makeOutput(shape, 'float32');
  // No wasm call runs during fill, so the heap cannot grow and the view stays valid.
  const out = f32(backend, info);
  out.fill(0);
  fill(out);
  return tf.engine().makeTensorFromTensorInfo(info);
}
