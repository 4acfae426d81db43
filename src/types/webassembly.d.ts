/**
 * The few WebAssembly JS API types our SIMD kernels use (src/backend/kernels/simd.ts). Node has
 * the API, but its types live in TypeScript's DOM lib, which this Node-only project leaves out.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Memory {
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
