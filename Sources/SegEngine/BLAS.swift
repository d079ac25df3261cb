import CBLAS
import Foundation

/// The only file that calls BLAS (BLIS, see Sources/CBLAS). Row-major single-precision GEMM:
/// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, where op is the
/// identity or the transpose and lda/ldb/ldc are row strides, so a head's
/// columns of a wider matrix can be used in place.
enum BLAS {
    /// Settled once, before the first BLAS call (every call below goes
    /// through it):
    /// - single-threaded: the engine parallelises over attention groups,
    ///   token chunks and convolution tiles itself; BLAS threads on top would
    ///   fight for the same cores (a no-op with the serial build);
    /// - kernels: BLIS picks AVX-512 ("skx") kernels only when it can count
    ///   the CPU's FMA units, which it cannot on virtual CPUs that hide the
    ///   model, and then runs AVX2 kernels at half the speed (measured: 70 vs
    ///   125 GFLOP/s per core on a 2048^3 SGEMM). On Intel CPUs whose OS
    ///   enables AVX-512 it is told "skx", unless BLIS_ARCH_TYPE is set.
    static let singleThreaded: Void = {
        if ProcessInfo.processInfo.environment["BLIS_ARCH_TYPE"] == nil && segscope_intel_avx512_usable() != 0 {
            setenv("BLIS_ARCH_TYPE", "skx", 0)
        }
        bli_thread_set_num_threads(1)
    }()

    /// The kernel family BLIS runs (e.g. "skx", "haswell", "zen3"), for reports.
    static var kernels: String {
        _ = singleThreaded
        return String(cString: bli_arch_string(bli_arch_query_id()))
    }

    @inline(__always)
    static func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Row-major double-precision GEMM for the trainer (SegTrain), which runs in
/// float64 so its gradients can be checked against finite differences with
/// the same code. Same conventions as `BLAS.gemm`.
public func gemm64(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
                   a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double = 0,
                   c: UnsafeMutablePointer<Double>, ldc: Int) {
    _ = BLAS.singleThreaded
    guard m > 0, n > 0 else { return }
    cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
