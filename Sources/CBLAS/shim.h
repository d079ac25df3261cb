// BLIS (Debian's libblis-serial-dev: single-threaded, as the engine runs one
// GEMM per core itself), through its CBLAS interface (32-bit integers). The
// few functions segscope calls are declared here rather than through blis.h,
// whose feature macros clash with Glibc's module. Library folder:
// .build/pkgconfig/segscope-blas.pc, written by scripts/setup.sh.
#include <stdint.h>
#include <cpuid.h>

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void cblas_dgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int m, int n, int k,
                 double alpha, const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc);

// BLIS's own API: threads per call, and the kernel family it chose (arch_t is an enum).
void bli_thread_set_num_threads(int64_t threads);
int bli_arch_query_id(void);
char *bli_arch_string(int id);

// Whether this CPU is Intel's and the OS lets programs use AVX-512 (F, CD,
// BW, DQ, VL and the ZMM/opmask state saved: XCR0 bits 1, 2, 5, 6, 7).
static inline int segscope_intel_avx512_usable(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d) || b != 0x756e6547 /* "Genu" */ || a < 7) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) /* OSXSAVE */) return 0;
    unsigned int xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 0xE6) != 0xE6) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned int needed = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31); // F, DQ, CD, BW, VL
    return (b & needed) == needed;
}
