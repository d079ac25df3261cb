// What the one BLAS file (SegEngine/BLAS.swift) needs from C: the CPU's
// vector features, to choose kernels before the BLAS library initialises.
// The library itself is loaded at run time (dlopen), so nothing is linked.
#include <cpuid.h>

enum { SEGSCOPE_CPU_OTHER = 0, SEGSCOPE_CPU_INTEL = 1, SEGSCOPE_CPU_AMD = 2 };

static inline unsigned int segscope_xcr0(void) {
    unsigned int low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return low;
}

// The vendor (SEGSCOPE_CPU_*), and whether AVX2 with FMA and AVX-512 (F,
// CD, BW, DQ, VL) are usable: the CPU has them and the OS saves their state
// (XCR0 bits 1, 2 for YMM; also 5, 6, 7 for ZMM and the opmasks).
static inline void segscope_cpu_features(int *vendor, int *avx2, int *avx512) {
    unsigned int a, b, c, d;
    *vendor = SEGSCOPE_CPU_OTHER;
    *avx2 = 0;
    *avx512 = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    if (b == 0x756e6547) *vendor = SEGSCOPE_CPU_INTEL;      // "Genu"ineIntel
    else if (b == 0x68747541) *vendor = SEGSCOPE_CPU_AMD;   // "Auth"enticAMD
    if (a < 7) return;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1;
    if (!osxsave) return;
    const unsigned int xcr0 = segscope_xcr0();
    __cpuid_count(7, 0, a, b, c, d);
    *avx2 = fma && ((b >> 5) & 1) && (xcr0 & 0x6) == 0x6;
    const unsigned int needed = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31); // F, DQ, CD, BW, VL
    *avx512 = *avx2 && (b & needed) == needed && (xcr0 & 0xE6) == 0xE6;
}
