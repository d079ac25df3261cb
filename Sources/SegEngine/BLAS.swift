import COpenBLAS

/// The only file that calls BLAS. Row-major single-precision GEMM:
/// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, where op is the
/// identity or the transpose and lda/ldb/ldc are row strides, so a head's
/// columns of a wider matrix can be used in place.
enum BLAS {
    /// The engine parallelises over attention groups and token chunks
    /// itself; OpenBLAS's own threads on top of that would fight for the same
    /// cores, so its calls run single-threaded. Every call below goes through
    /// this once-only setting first: changing OpenBLAS's thread count while
    /// another thread is inside a multi-threaded call corrupts its buffers.
    static let singleThreaded: Void = openblas_set_num_threads(1)

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
