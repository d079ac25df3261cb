import CBLAS
import Foundation

/// The BLAS libraries the engine can run on, as Debian installs them. The
/// engine loads one at run time (dlopen) rather than linking it, so that the
/// kernels can be chosen before the library initialises (OpenBLAS reads
/// OPENBLAS_CORETYPE once, in its load-time constructor).
public enum BLASChoice: String, CaseIterable, Sendable {
    /// The design's BLAS (libopenblas-dev): the default.
    case openBLAS = "openblas"
    /// BLIS (libblis4-serial), chosen with SEGSCOPE_BLAS=blis.
    case blis

    /// The environment variable that chooses: "openblas" (default), "blis",
    /// or the path of a CBLAS library (a path holds a "/").
    public static let variable = "SEGSCOPE_BLAS"

    /// Where Debian keeps each build, most wanted first; the bare soname last
    /// (the loader's own search path).
    public var candidates: [String] {
        let directory = "/usr/lib/" + Self.multiarch
        switch self {
        case .openBLAS:
            // The pthread build is what libopenblas-dev installs; it is told to
            // use one thread, and is safe to call from several threads at once.
            return ["openblas-pthread", "openblas-serial", "openblas-openmp"].map {
                "\(directory)/\($0)/libopenblas.so.0"
            }
                + ["libopenblas.so.0"]
        case .blis:
            return ["blis-serial", "blis-pthread", "blis-openmp"].map { "\(directory)/\($0)/libblis.so.4" } + [
                "libblis.so.4"
            ]
        }
    }

    static var multiarch: String {
        #if arch(x86_64)
            return "x86_64-linux-gnu"
        #elseif arch(arm64)
            return "aarch64-linux-gnu"
        #else
            return "unknown-linux-gnu"
        #endif
    }
}

public enum BLASError: Error, CustomStringConvertible, Equatable {
    case unknownChoice(String)
    case cannotLoad(choice: String, tried: [String], reason: String)
    case missingSymbol(path: String, symbol: String)

    public var description: String {
        switch self {
        case .unknownChoice(let value):
            return
                "\(BLASChoice.variable)=\(value): not a BLAS segscope knows (openblas, blis, or the path of a CBLAS library)"
        case .cannotLoad(let choice, let tried, let reason):
            return "cannot load the BLAS \(choice) (tried \(tried.joined(separator: ", ")): \(reason)); "
                + "install it (scripts/setup.sh) or choose another with \(BLASChoice.variable)"
        case .missingSymbol(let path, let symbol): return "\(path): not a CBLAS library (no \(symbol))"
        }
    }
}

/// The CPU's vector features, from cpuid (Sources/CBLAS/shim.h).
public struct CPUFeatures: Sendable, Equatable {
    public enum Vendor: Sendable { case intel, amd, other }
    public let vendor: Vendor
    /// AVX2 and FMA, with the OS saving YMM state.
    public let avx2: Bool
    /// AVX-512 F, CD, BW, DQ and VL, with the OS saving ZMM and opmask state.
    public let avx512: Bool

    public init(vendor: Vendor, avx2: Bool, avx512: Bool) {
        (self.vendor, self.avx2, self.avx512) = (vendor, avx2, avx512)
    }

    public static let host: CPUFeatures = {
        var vendor: Int32 = 0
        var avx2: Int32 = 0
        var avx512: Int32 = 0
        segscope_cpu_features(&vendor, &avx2, &avx512)
        let named: Vendor =
            vendor == Int32(SEGSCOPE_CPU_INTEL) ? .intel : vendor == Int32(SEGSCOPE_CPU_AMD) ? .amd : .other
        return CPUFeatures(vendor: named, avx2: avx2 != 0, avx512: avx512 != 0)
    }()

    /// The OpenBLAS core type these features call for, or nil (leave it to
    /// OpenBLAS). OpenBLAS 0.3.21 chooses by CPU model, and on models it does
    /// not know it falls back to Prescott (SSE3) kernels, 3-4x slower; on
    /// models it knows it picks exactly these (Zen for AMD with AVX2, Haswell
    /// for Intel with AVX2, SkylakeX or its Cooperlake variant, with the same
    /// single- and double-precision kernels, with AVX-512). Naming the type
    /// from the features therefore changes nothing where OpenBLAS knows the
    /// CPU and gives the right kernels where it does not.
    public var openBLASCoreType: String? {
        if avx512 { return "SkylakeX" }
        if avx2 { return vendor == .amd ? "Zen" : "Haswell" }
        return nil
    }

    /// The BLIS kernel family to ask for, or nil (leave it to BLIS): BLIS
    /// picks AVX-512 ("skx") kernels only when it can count the CPU's FMA
    /// units, which it cannot on virtual CPUs that hide the model, and then
    /// runs AVX2 kernels at half the speed (measured: 70 vs 125 GFLOP/s per
    /// core on a 2048^3 SGEMM).
    public var blisArchType: String? { vendor == .intel && avx512 ? "skx" : nil }
}

/// The only file that calls BLAS. Row-major single-precision GEMM:
/// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, where op is the
/// identity or the transpose and lda/ldb/ldc are row strides, so a head's
/// columns of a wider matrix can be used in place.
enum BLAS {
    typealias Sgemm =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias Dgemm =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
            UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32
        ) -> Void

    struct Library: Sendable {
        let path: String
        /// e.g. "OpenBLAS, Zen kernels" or "BLIS, zen3 kernels".
        let description: String
        let sgemm: Sgemm, dgemm: Dgemm
    }

    private static let loading = NSLock()

    /// Loaded once, before the first BLAS call (every call below goes through it).
    static let loaded: Result<Library, BLASError> = Result { () throws(BLASError) in
        try load(environment: ProcessInfo.processInfo.environment)
    }

    /// Loads the library the environment chooses and makes it single-threaded:
    /// the engine parallelises over attention groups, token chunks and
    /// convolution tiles itself, and BLAS threads on top would fight for the
    /// same cores. Kernel variables (OPENBLAS_CORETYPE, BLIS_ARCH_TYPE) and
    /// OPENBLAS_NUM_THREADS are set only when unset, and only while the
    /// library initialises, so child processes see the user's environment.
    static func load(environment: [String: String]) throws(BLASError) -> Library {
        // The environment is process-wide: one load at a time sets and restores it.
        loading.lock()
        defer { loading.unlock() }
        let requested =
            environment[BLASChoice.variable].flatMap { $0.isEmpty ? nil : $0 } ?? BLASChoice.openBLAS.rawValue
        let paths: [String]
        if requested.contains("/") {
            paths = [requested]
        } else if let choice = BLASChoice(rawValue: requested.lowercased()) {
            paths = choice.candidates
        } else {
            throw BLASError.unknownChoice(requested)
        }
        var temporary: [String] = []
        func setIfUnset(_ name: String, _ value: String?) {
            guard let value, environment[name] == nil else { return }
            setenv(name, value, 0)
            temporary.append(name)
        }
        setIfUnset("OPENBLAS_CORETYPE", CPUFeatures.host.openBLASCoreType)
        setIfUnset("OPENBLAS_NUM_THREADS", "1")
        setIfUnset("BLIS_ARCH_TYPE", CPUFeatures.host.blisArchType)
        defer { for name in temporary { unsetenv(name) } }

        var handle: UnsafeMutableRawPointer?
        var path = ""
        var reason = "not found"
        for candidate in paths {
            if let opened = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                (handle, path) = (opened, candidate)
                break
            }
            reason = dlerror().map { String(cString: $0) } ?? reason
        }
        guard let handle else { throw BLASError.cannotLoad(choice: requested, tried: paths, reason: reason) }
        func symbol<T>(_ name: String, as type: T.Type) throws(BLASError) -> T {
            guard let address = dlsym(handle, name) else { throw BLASError.missingSymbol(path: path, symbol: name) }
            return unsafeBitCast(address, to: type)
        }
        let sgemm = try symbol("cblas_sgemm", as: Sgemm.self)
        let dgemm = try symbol("cblas_dgemm", as: Dgemm.self)

        // Each library's own thread setting and kernel name; BLIS initialises
        // (and reads BLIS_ARCH_TYPE) when told its threads.
        var description = (path as NSString).lastPathComponent
        if let setThreads = dlsym(handle, "openblas_set_num_threads") {
            unsafeBitCast(setThreads, to: (@convention(c) (Int32) -> Void).self)(1)
            let core = dlsym(handle, "openblas_get_corename")
                .flatMap { unsafeBitCast($0, to: (@convention(c) () -> UnsafePointer<CChar>?).self)() }
            description = "OpenBLAS, " + (core.map { String(cString: $0) } ?? "unknown") + " kernels"
        } else if let setThreads = dlsym(handle, "bli_thread_set_num_threads") {
            unsafeBitCast(setThreads, to: (@convention(c) (Int64) -> Void).self)(1)
            if let query = dlsym(handle, "bli_arch_query_id"), let name = dlsym(handle, "bli_arch_string") {
                let id = unsafeBitCast(query, to: (@convention(c) () -> Int32).self)()
                let text = unsafeBitCast(name, to: (@convention(c) (Int32) -> UnsafePointer<CChar>?).self)(id)
                description = "BLIS, " + (text.map { String(cString: $0) } ?? "unknown") + " kernels"
            }
        }
        return Library(path: path, description: description, sgemm: sgemm, dgemm: dgemm)
    }

    /// The loaded library; callers of the engine's public entry points have
    /// already been given any load error as a thrown `BLASError`
    /// (`requireBLAS`), so a failure here means a path that skipped it.
    static var library: Library {
        switch loaded {
        case .success(let library): return library
        case .failure(let error): fatalError("segscope: \(error)")
        }
    }

    @inline(__always)
    static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // Empty products are no call: BLAS rejects a leading dimension of 0 as
        // an "illegal value" (printed on stdout, and the call does nothing).
        guard m > 0, n > 0 else { return }
        guard k > 0 else { return scaleForEmptyProduct(c, m: m, n: n, ldc: ldc, beta: beta) }
        library.sgemm(
            101, transposeA ? 112 : 111, transposeB ? 112 : 111,  // row-major; no/transposed
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Throws the BLAS load error, if any (an unknown SEGSCOPE_BLAS, a library
/// that is not installed): every public entry point of the engine calls it
/// first, so the error reaches the user as a message, not a trap.
public func requireBLAS() throws {
    _ = try BLAS.loaded.get()
}

/// The BLAS the engine runs and its kernels, e.g. "OpenBLAS, Zen kernels", for reports.
public var blasKernels: String {
    switch BLAS.loaded {
    case .success(let library): return library.description
    case .failure(let error): return "no BLAS (\(error))"
    }
}

/// The path of the BLAS library the engine loaded (nil if none).
public var blasPath: String? { try? BLAS.loaded.get().path }

/// Row-major double-precision GEMM for the trainer (SegTrain), which runs in
/// float64 so its gradients can be checked against finite differences with
/// the same code. Same conventions as `BLAS.gemm`.
public func gemm64(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double = 0,
    c: UnsafeMutablePointer<Double>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else { return scaleForEmptyProduct(c, m: m, n: n, ldc: ldc, beta: beta) }
    BLAS.library.dgemm(
        101, transposeA ? 112 : 111, transposeB ? 112 : 111,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// C [m, n] (row stride ldc) = beta C for a product over k = 0 terms, which
/// BLAS would reject; beta = 0 writes zeros (NaN in C does not survive, as in BLAS).
private func scaleForEmptyProduct<T: BinaryFloatingPoint>(
    _ c: UnsafeMutablePointer<T>, m: Int, n: Int, ldc: Int, beta: T
) {
    for row in 0..<m {
        for column in 0..<n { c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column] }
    }
}
