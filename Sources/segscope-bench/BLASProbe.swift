import Dispatch
import Foundation
import SegEngine

// Every BLAS on the machine, timed on the engine's own GEMM shapes. Each
// library runs in a child of the bench (`segscope-bench blas-child PATH`),
// loaded with RTLD_DEEPBIND so its own symbols win; the engine's way is one single-threaded GEMM per core at
// once (it parallelises over token chunks, attention groups and tiles
// itself), and the library's own threading is measured on 2048^3 beside it.

/// One GEMM of the engine, row-major: C[m, n] = A[m, k] op(B).
struct GemmShape {
    let name: String
    let m: Int, n: Int, k: Int
    let transposeB: Bool
    var flop: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// The shapes at the release's size (C = 512, 128x256 features, heads 2,
/// blocks 16x16, FFN 256) and of PSPNet-50's convolution tiles.
let engineShapes: [GemmShape] = [
    GemmShape(name: "STF projection chunk 12288x512·512ᵀ", m: 12288, n: 512, k: 512, transposeB: true),
    GemmShape(name: "attention QKᵀ long 384x384, d 256", m: 384, n: 384, k: 256, transposeB: true),
    GemmShape(name: "attention ·V short 768x256, s 768", m: 768, n: 256, k: 768, transposeB: false),
    GemmShape(name: "FFN chunk 4096x256·512ᵀ", m: 4096, n: 256, k: 512, transposeB: true),
    GemmShape(name: "conv tile 512x256, 2 taps of 256", m: 512, n: 256, k: 512, transposeB: true),
    GemmShape(name: "conv 1x1 tile 512x2048·512ᵀ", m: 512, n: 2048, k: 512, transposeB: true),
    GemmShape(name: "sgemm 2048³", m: 2048, n: 2048, k: 2048, transposeB: false),
]

/// A BLAS as Debian installs it.
struct BLASLibrary {
    let name: String
    let path: String
}

let multiarch = "/usr/lib/x86_64-linux-gnu"
let debianBLAS: [BLASLibrary] = [
    BLASLibrary(name: "BLIS serial", path: "\(multiarch)/blis-serial/libblis.so.4"),
    BLASLibrary(name: "BLIS pthread", path: "\(multiarch)/blis-pthread/libblis.so.4"),
    BLASLibrary(name: "BLIS openmp", path: "\(multiarch)/blis-openmp/libblis.so.4"),
    BLASLibrary(name: "OpenBLAS serial", path: "\(multiarch)/openblas-serial/libopenblas.so.0"),
    BLASLibrary(name: "OpenBLAS pthread", path: "\(multiarch)/openblas-pthread/libopenblas.so.0"),
    BLASLibrary(name: "OpenBLAS openmp", path: "\(multiarch)/openblas-openmp/libopenblas.so.0"),
    BLASLibrary(name: "ATLAS", path: "\(multiarch)/atlas/libblas.so.3"),
    BLASLibrary(name: "netlib reference", path: "\(multiarch)/blas/libblas.so.3"),
]

typealias CblasSgemm =
    @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void
typealias SetThreads32 = @convention(c) (Int32) -> Void
typealias SetThreads64 = @convention(c) (Int64) -> Void
typealias ArchString = @convention(c) (Int32) -> UnsafePointer<CChar>?
typealias ArchQuery = @convention(c) () -> Int32
typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?

/// In the child: loads `path`, times every shape, prints one JSON object.
/// BLIS and OpenBLAS builds get the kernels segscope chooses for them
/// (`CPUFeatures`, see SegEngine/BLAS.swift; a variable the user set is
/// kept), so the table compares builds, not configurations.
func blasChild(path: String) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if path.contains("/blis-"), let arch = CPUFeatures.host.blisArchType { setenv("BLIS_ARCH_TYPE", arch, 0) }
    if path.contains("/openblas-"), let core = CPUFeatures.host.openBLASCoreType {
        setenv("OPENBLAS_CORETYPE", core, 0)
    }
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | Int32(RTLD_DEEPBIND)),
        let symbol = dlsym(handle, "cblas_sgemm")
    else {
        print("{\"error\": \"cannot load\"}")
        return
    }
    let sgemm = unsafeBitCast(symbol, to: CblasSgemm.self)
    func setThreads(_ n: Int) {
        if let f = dlsym(handle, "openblas_set_num_threads") { unsafeBitCast(f, to: SetThreads32.self)(Int32(n)) }
        if let f = dlsym(handle, "bli_thread_set_num_threads") { unsafeBitCast(f, to: SetThreads64.self)(Int64(n)) }
    }
    /// Runs `body` `reps` times on each core at once; seconds for all.
    func timed(reps: Int, threads: Int, _ body: @Sendable (Int) -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { t in for _ in 0..<reps { body(t) } }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    setThreads(1)
    // BLIS answers only once initialised (setting the threads does that).
    var kernels = ""
    if let q = dlsym(handle, "bli_arch_query_id"), let s = dlsym(handle, "bli_arch_string"),
        let name = unsafeBitCast(s, to: ArchString.self)(unsafeBitCast(q, to: ArchQuery.self)())
    {
        kernels = String(cString: name)
    } else if let f = dlsym(handle, "openblas_get_corename"), let name = unsafeBitCast(f, to: CoreName.self)() {
        kernels = String(cString: name)
    }
    var rates: [Double] = []
    for shape in engineShapes {
        let a = (0..<cores).map { _ in [Float](repeating: 0.5, count: shape.m * shape.k) }
        let b = [Float](repeating: 0.25, count: shape.k * shape.n)
        // Outputs by address: a closure run on every core cannot capture pointers.
        let c = (0..<cores).map { _ in
            UInt(bitPattern: UnsafeMutablePointer<Float>.allocate(capacity: shape.m * shape.n))
        }
        let run: @Sendable (Int) -> Void = { t in
            a[t].withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    sgemm(
                        101, 111, shape.transposeB ? 112 : 111, Int32(shape.m), Int32(shape.n), Int32(shape.k), 1,
                        ab.baseAddress,
                        Int32(shape.k), bb.baseAddress, Int32(shape.transposeB ? shape.k : shape.n), 0,
                        UnsafeMutablePointer(bitPattern: c[t]), Int32(shape.n))
                }
            }
        }
        let once = timed(reps: 1, threads: cores, run)
        let reps = max(1, min(50, Int(0.5 / once)))
        let best = (0..<2).map { _ in timed(reps: reps, threads: cores, run) }.min()!
        rates.append(Double(cores * reps) * shape.flop / best / 1e9)
        for address in c { UnsafeMutablePointer<Float>(bitPattern: address)!.deallocate() }
    }
    // The library's own threads on one large call.
    setThreads(cores)
    let n = 2048
    let a = [Float](repeating: 0.5, count: n * n)
    let b = [Float](repeating: 0.25, count: n * n)
    let c = UInt(bitPattern: UnsafeMutablePointer<Float>.allocate(capacity: n * n))
    defer { UnsafeMutablePointer<Float>(bitPattern: c)!.deallocate() }
    let call: @Sendable (Int) -> Void = { _ in
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                sgemm(
                    101, 111, 111, Int32(n), Int32(n), Int32(n), 1, ab.baseAddress, Int32(n), bb.baseAddress, Int32(n),
                    0, UnsafeMutablePointer(bitPattern: c), Int32(n))
            }
        }
    }
    let once = timed(reps: 1, threads: 1, call)
    let reps = max(1, min(20, Int(0.5 / once)))
    let threaded =
        2 * Double(n * n) * Double(n) * Double(reps) / (0..<2).map { _ in timed(reps: reps, threads: 1, call) }.min()!
        / 1e9
    let json: [String: Any] = ["kernels": kernels, "engine": rates, "threaded": threaded]
    print(String(decoding: try! JSONSerialization.data(withJSONObject: json), as: UTF8.self))
}

/// numpy's own BLAS (the OpenBLAS its wheel bundles) on the same shapes:
/// the engine's way with one BLAS thread and a Python thread per core
/// (matmul releases the GIL), then its own threads on 2048^3.
func numpyProbe(python: String) -> (name: String, rates: [Double], threaded: Double)? {
    let shapes = engineShapes.map { "(\($0.m), \($0.n), \($0.k), \($0.transposeB ? "True" : "False"))" }.joined(
        separator: ", ")
    let script = """
        import json, os, sys, time
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        cores = os.cpu_count()
        shapes = [\(shapes)]
        def rate(m, n, k, tb, threads):
            a = [np.full((m, k), 0.5, np.float32) for _ in range(threads)]
            b = np.full((n, k) if tb else (k, n), 0.25, np.float32)
            b = b.T if tb else b
            def work(t, reps):
                for _ in range(reps): np.matmul(a[t], b)
            def timed(reps):
                s = time.perf_counter()
                with ThreadPoolExecutor(threads) as ex: list(ex.map(lambda t: work(t, reps), range(threads)))
                return time.perf_counter() - s
            once = timed(1); reps = max(1, min(50, int(0.5 / once)))
            return threads * reps * 2.0 * m * n * k / min(timed(reps) for _ in range(2)) / 1e9
        info = ""
        try:
            from threadpoolctl import threadpool_info
            lib = [x for x in threadpool_info() if x.get("user_api") == "blas"][0]
            info = "%s %s, %s" % (lib.get("internal_api"), lib.get("version"), lib.get("architecture"))
        except Exception:
            pass
        if sys.argv[1] == "engine":
            print(json.dumps({"name": info, "rates": [rate(m, n, k, tb, cores) for m, n, k, tb in shapes]}))
        else:
            print(json.dumps({"threaded": rate(2048, 2048, 2048, False, 1)}))
        """
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard let engine = run(["OPENBLAS_NUM_THREADS=1", python, "-c", script, "engine"]),
        let threaded = run(["OPENBLAS_NUM_THREADS=\(cores)", python, "-c", script, "threaded"]),
        let e = try? JSONSerialization.jsonObject(with: Data(engine.utf8)) as? [String: Any],
        let t = try? JSONSerialization.jsonObject(with: Data(threaded.utf8)) as? [String: Any],
        let rates = e["rates"] as? [Double], let rate = t["threaded"] as? Double
    else { return nil }
    let version =
        run([python, "-c", "import numpy; print(numpy.__version__)"])?.trimmingCharacters(in: .whitespacesAndNewlines)
        ?? "?"
    return ("numpy \(version) (\(e["name"] as? String ?? "its OpenBLAS"))", rates, rate)
}
