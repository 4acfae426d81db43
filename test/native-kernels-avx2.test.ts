/**
 * test/native-kernels.test.ts again with the AVX2 build (EXP_NATIVE_KERNELS=avx2), so that on a CPU
 * with AVX-512, whose own run tests the AVX-512 build, the AVX2 build is held to the wasm bits too.
 * (The variable is read when the native kernels first load, which the imported file's tests do.)
 */
process.env['EXP_NATIVE_KERNELS'] = 'avx2';
await import('./native-kernels.test.js');
