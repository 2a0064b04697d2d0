// The machine's WebAssembly SIMD rate for issue 32's arithmetic: a register-blocked f32
// matrix product (4 rows x 8 columns of C held in eight 128-bit registers), the inner
// shape of a fused click kernel (72x72 = 5184 tokens, 256 channels, 32 outputs). Built
// twice: plain SIMD128 (multiply, then add) and relaxed SIMD's fused multiply-add.
// `make bench-wasm-simd` compiles and times both in Node.js (V8, Chrome's engine).
#include <wasm_simd128.h>

#ifdef RELAXED
#define MADD(a, b, c) __builtin_wasm_relaxed_madd_f32x4(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

// C[M][N] = A[M][K] * B[K][N], row-major; M a multiple of 4, N a multiple of 8.
__attribute__((export_name("gemm"))) void gemm(const float *A, const float *B, float *C, int M, int K, int N) {
  for (int i = 0; i < M; i += 4) {
    for (int j = 0; j < N; j += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int k = 0; k < K; k++) {
        v128_t b0 = wasm_v128_load(B + k * N + j), b1 = wasm_v128_load(B + k * N + j + 4);
        v128_t a0 = wasm_f32x4_splat(A[i * K + k]), a1 = wasm_f32x4_splat(A[(i + 1) * K + k]);
        v128_t a2 = wasm_f32x4_splat(A[(i + 2) * K + k]), a3 = wasm_f32x4_splat(A[(i + 3) * K + k]);
        c00 = MADD(a0, b0, c00), c01 = MADD(a0, b1, c01), c10 = MADD(a1, b0, c10), c11 = MADD(a1, b1, c11);
        c20 = MADD(a2, b0, c20), c21 = MADD(a2, b1, c21), c30 = MADD(a3, b0, c30), c31 = MADD(a3, b1, c31);
      }
      float *c = C + i * N + j;
      wasm_v128_store(c, c00), wasm_v128_store(c + 4, c01), wasm_v128_store(c + N, c10), wasm_v128_store(c + N + 4, c11);
      wasm_v128_store(c + 2 * N, c20), wasm_v128_store(c + 2 * N + 4, c21), wasm_v128_store(c + 3 * N, c30), wasm_v128_store(c + 3 * N + 4, c31);
    }
  }
}

static float heap[12 << 20];
__attribute__((export_name("heap"))) float *heap_ptr(void) { return heap; }
