/*
 * Node-API entry points of the native x86-64 build of csrc/exp_kernels.c (tools/build-native.sh,
 * loaded by src/backend/kernels/native.ts). Only the kernels whose tiles the build widens to 256
 * bits are exported (the products, the 3 x 3 depthwise passes, the stem conv); every other kernel keeps running in
 * the wasm module.
 *
 * Every call works in place on tfjs-backend-wasm's heap, as the wasm build does: argument 0 is the
 * heap's address in this process (heapBase), pointer arguments are byte offsets into it (0 = null,
 * and offsets past 2 GB arrive negative through parallel.ts's Int32Array, hence the uint32 cast),
 * and the others are the ints the wasm function takes.
 */
#include <node_api.h>
#include <stdint.h>

#include "../exp_kernels.c"

#define MAX_ARGS 20

/* The call's arguments as int64s; 0 (with a JS exception pending) unless there are exactly n. */
static int args_of(napi_env env, napi_callback_info info, int64_t *a, size_t n) {
  napi_value v[MAX_ARGS];
  size_t argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &argc, v, NULL, NULL) != napi_ok || argc != n) {
    napi_throw_error(env, NULL, "exp native kernel: wrong number of arguments");
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (napi_get_value_int64(env, v[i], &a[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "exp native kernel: arguments must be numbers");
      return 0;
    }
  return 1;
}

#define P(i) ((void *)(a[i] ? (uint8_t *)(uintptr_t)a[0] + (uint32_t)a[i] : 0))
#define I(i) ((int)a[i])
#define KERNEL(name, n, call)                                          \
  static napi_value js_##name(napi_env env, napi_callback_info info) { \
    int64_t a[n + 1];                                                  \
    if (args_of(env, info, a, n + 1)) call;                            \
    return NULL;                                                       \
  }

KERNEL(gemm_nn_p, 10, gemm_nn_p(P(1), P(2), P(3), I(4), I(5), P(6), P(7), P(8), I(9), I(10)))
KERNEL(gemm_tn_ks, 14,
       gemm_tn_ks(P(1), P(2), P(3), P(4), P(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14)))
KERNEL(pw_grads, 16,
       pw_grads(P(1), P(2), P(3), P(4), P(5), P(6), P(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15),
                I(16)))
KERNEL(dw3_fwd, 8, dw3_fwd(P(1), P(2), P(3), P(4), P(5), P(6), I(7), I(8)))
KERNEL(dw3_grads_rg, 11,
       dw3_grads_rg(P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), I(9), I(10), I(11)))
KERNEL(conv_c4, 9, conv_c4(P(1), P(2), P(3), P(4), P(5), I(6), P(7), I(8), I(9)))
KERNEL(conv1d_rows, 14,
       conv1d_rows(P(1), P(2), P(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14)))

/* The address of the memory a Uint8Array views (a wasm memory's buffer; shared or not). */
static napi_value js_heapBase(napi_env env, napi_callback_info info) {
  napi_value v, out;
  size_t argc = 1, length, offset;
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  if (napi_get_cb_info(env, info, &argc, &v, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) {
    napi_throw_type_error(env, NULL, "heapBase: expected a Uint8Array over the heap");
    return NULL;
  }
  napi_create_double(env, (double)(uintptr_t)((uint8_t *)data - offset), &out);
  return out;
}

#define EXPORT(name) {#name, NULL, js_##name, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {EXPORT(heapBase), EXPORT(gemm_nn_p), EXPORT(gemm_tn_ks), EXPORT(pw_grads),
                                      EXPORT(conv1d_rows), EXPORT(dw3_fwd), EXPORT(dw3_grads_rg), EXPORT(conv_c4)};
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
