/*
 * The machine's float32 FMA ceiling, measured: each thread runs independent chains of fused
 * multiply-adds on values that never leave the registers (no loads, no stores), so nothing but the
 * FMA units limits it. AVX2 (8 lanes) and, where the CPU has it, AVX-512 (16 lanes); 1 thread and
 * `threads` threads (one per core). Prints one JSON object. Built and run by `npm run bench`:
 *
 *   cc -O2 -pthread bench/peak/fma-peak.c -o /tmp/fma-peak && /tmp/fma-peak 2
 *
 * FLOPs = 2 per lane per FMA. 12 (AVX2) or 24 (AVX-512) independent accumulators cover FMA latency ×
 * pipes on current x86 (4 cycles × 2 pipes = 8 in flight needed) without spilling to memory.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* AVX2 has 16 vector registers (12 accumulators + 2 constants fit), AVX-512 has 32. */
#define CHAINS_AVX2 12
#define CHAINS_AVX512 24
static const long ITERS = 20000000; /* per call; × chains FMAs */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((target("avx2,fma"))) static float run_avx2(long iters) {
  __m256 acc[CHAINS_AVX2];
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS_AVX2; i++) acc[i] = _mm256_set1_ps((float)i);
  for (long n = 0; n < iters; n++) {
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS_AVX2; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < CHAINS_AVX2; i++) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f"))) static float run_avx512(long iters) {
  __m512 acc[CHAINS_AVX512];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS_AVX512; i++) acc[i] = _mm512_set1_ps((float)i);
  for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
    for (int i = 0; i < CHAINS_AVX512; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < CHAINS_AVX512; i++) s = _mm512_add_ps(s, acc[i]); /* every chain is live */
  return _mm512_reduce_add_ps(s);
}

typedef struct { int wide; long iters; float sink; } job_t;

static void *worker(void *p) {
  job_t *j = (job_t *)p;
  j->sink = j->wide ? run_avx512(j->iters) : run_avx2(j->iters);
  return NULL;
}

/* GFLOP/s of `threads` threads running together; best of `reps` runs. */
static double measure(int wide, int threads, int reps) {
  const int lanes = wide ? 16 : 8;
  double best = 0;
  for (int r = 0; r < reps; r++) {
    pthread_t tid[256];
    job_t jobs[256];
    double t0 = now();
    for (int t = 0; t < threads; t++) {
      jobs[t] = (job_t){wide, ITERS, 0};
      pthread_create(&tid[t], NULL, worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double s = now() - t0;
    double gflops = (double)threads * ITERS * (wide ? CHAINS_AVX512 : CHAINS_AVX2) * lanes * 2 / s / 1e9;
    if (gflops > best) best = gflops;
  }
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "usage: fma-peak THREADS (1..256)\n");
    return 2;
  }
  __builtin_cpu_init();
  int has512 = __builtin_cpu_supports("avx512f");
  measure(0, threads, 1); /* warm up: clocks settle */
  printf("{\"threads\":%d,\"avx2\":{\"oneThreadGflops\":%.1f,\"allThreadsGflops\":%.1f}", threads, measure(0, 1, 5), measure(0, threads, 5));
  if (has512) printf(",\"avx512\":{\"oneThreadGflops\":%.1f,\"allThreadsGflops\":%.1f}", measure(1, 1, 5), measure(1, threads, 5));
  else printf(",\"avx512\":null");
  printf(",\"chains\":{\"avx2\":%d,\"avx512\":%d},\"note\":\"register-resident FMA chains, float32, best of 5\"}\n", CHAINS_AVX2, CHAINS_AVX512);
  return 0;
}
