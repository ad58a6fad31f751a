// The hardware limits that bound one series' KAMA on this machine, measured rather than quoted
// from tables. Built and run by bench/bench_floor.py; each figure is nanoseconds per operation,
// the minimum over repeats (the machine's noise only adds time).
//
//   chain       y = y + c * (x - y), each step waiting for the last (TA-Lib's and the scalar
//               kernel's critical path: a subtraction, a multiplication, an addition)
//   chain_fma   the same with a fused multiply-add (the SIMD kernels' short-series loop)
//   div_zmm     independent 8-wide divisions (the efficiency ratio of 8 outputs)
//   div_ymm     independent 4-wide divisions
//   store_zmm   independent 64-byte stores to a 16 KiB buffer (in L1)
//   store_ymm   independent 32-byte stores to a 16 KiB buffer (in L1)
//   cycle       dependent integer additions, one clock cycle each: the clock
//
// Compiled with -mavx512f -mavx2 -mfma -ffp-contract=off (so that `chain` stays unfused);
// bench_floor.py runs it only where /proc/cpuinfo lists avx512f, avx2 and fma.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

double now_ns() {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class F>
double best(F f, long ops) {
    double b = 1e300;
    for (int rep = 0; rep < 7; ++rep) {
        const double t = now_ns();
        f();
        const double dt = (now_ns() - t) / static_cast<double>(ops);
        b = dt < b ? dt : b;
    }
    return b;
}

void run() {
    constexpr long N = 20'000'000;
    volatile double sink = 0;
    {
        double y = 1.0, c = 0.01, x = 2.0;
        std::printf("chain %.4f\n", best([&] {
            for (long i = 0; i < N; ++i) {
                asm volatile("" : "+x"(x));
                y = y + c * (x - y);
            }
        }, N));
        sink = sink + y;
    }
    {
        __m128d y = _mm_set_sd(1.0), c = _mm_set_sd(0.01), x = _mm_set_sd(2.0);
        std::printf("chain_fma %.4f\n", best([&] {
            for (long i = 0; i < N; ++i) y = _mm_fmadd_sd(c, _mm_sub_sd(x, y), y);
        }, N));
        sink = sink + _mm_cvtsd_f64(y);
    }
    {
        long a = 0;
        std::printf("cycle %.4f\n", best([&] {
            for (long i = 0; i < N / 100; ++i) asm volatile(".rept 100\n\tadd $1, %0\n\t.endr" : "+r"(a));
        }, N / 100 * 100));
        sink = sink + static_cast<double>(a);
    }
    {
        __m512d v[8];
        const __m512d d = _mm512_set1_pd(1.0000001);
        for (int k = 0; k < 8; ++k) v[k] = _mm512_set1_pd(1.0 + k);
        std::printf("div_zmm %.4f\n", best([&] {
            for (long i = 0; i < N / 8; ++i)
                for (int k = 0; k < 8; ++k) {
                    v[k] = _mm512_div_pd(v[k], d);
                    asm volatile("" : "+v"(v[k]));
                }
        }, N / 8 * 8));
        for (int k = 0; k < 8; ++k) sink = sink + _mm512_reduce_add_pd(v[k]);
    }
    {
        __m256d v[8];
        const __m256d d = _mm256_set1_pd(1.0000001);
        for (int k = 0; k < 8; ++k) v[k] = _mm256_set1_pd(1.0 + k);
        std::printf("div_ymm %.4f\n", best([&] {
            for (long i = 0; i < N / 8; ++i)
                for (int k = 0; k < 8; ++k) {
                    v[k] = _mm256_div_pd(v[k], d);
                    asm volatile("" : "+v"(v[k]));
                }
        }, N / 8 * 8));
        for (int k = 0; k < 8; ++k) sink = sink + v[k][0];
    }
    auto* buf = static_cast<double*>(std::aligned_alloc(64, 16384 * sizeof(double)));
    {
        const __m512d v = _mm512_set1_pd(1.0);
        std::printf("store_zmm %.4f\n", best([&] {
            for (long i = 0; i < N / 8; ++i) {
                double* p = buf + ((i * 64) & 2047);
                for (int k = 0; k < 8; ++k) _mm512_store_pd(p + 8 * k, v);
                asm volatile("" : : "r"(p) : "memory");
            }
        }, N / 8 * 8));
    }
    {
        const __m256d v = _mm256_set1_pd(1.0);
        std::printf("store_ymm %.4f\n", best([&] {
            for (long i = 0; i < N / 8; ++i) {
                double* p = buf + ((i * 32) & 2047);
                for (int k = 0; k < 8; ++k) _mm256_store_pd(p + 4 * k, v);
                asm volatile("" : : "r"(p) : "memory");
            }
        }, N / 8 * 8));
    }
    sink = sink + buf[5];
    std::free(buf);
}

}  // namespace

int main() {
    run();
    return 0;
}
