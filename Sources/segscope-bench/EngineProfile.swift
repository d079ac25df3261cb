import Foundation
import SegEngine
import SegFormats

/// `segscope-bench engine-child DIR [RUNS]`: STF and MAR alone at the release's
/// size (C=512, 128x256 tokens, heads 2, blocks 16x16), RUNS times (default 5),
/// in wall and CPU seconds of this process, with the load average, so their
/// speed can be measured (and A/B-compared between commits) in a minute
/// instead of a whole `make bench`. DIR keeps the random weights and features
/// (made by Tests/Tools/stf_mar_reference.py through SEGSCOPE_PYTHON when
/// missing), so every run and every build measures the same inputs.
func engineChild(directory: String, runs: Int) throws {
    let weights = directory + "/w.safetensors"
    let frames = ["prev", "cur", "next"].map { "\(directory)/\($0).npy" }
    if !FileManager.default.fileExists(atPath: weights) {
        try makeEngineInputs(directory: directory)
    }
    let model = try Model.load(path: weights)
    guard let stf = model.stf, let mar = model.mar else {
        throw BenchError("\(weights): has no STF or no MAR")
    }
    let features = try frames.map { try Npy.read(path: $0).floats() }
    let (height, width) = (128, 256)
    var rows: [(stfWall: Double, stfCPU: Double, marWall: Double, marCPU: Double)] = []
    print("engine-child (\(blasKernels)), load average at start: \(loadAverage())")
    for run in 1...runs {
        var start = (DispatchTime.now().uptimeNanoseconds, processCPUSeconds())
        let fused = try stf.fusedTokens(
            previous: features[0], current: features[1], next: features[2], height: height, width: width)
        let stfWall = Double(DispatchTime.now().uptimeNanoseconds - start.0) / 1e9
        let stfCPU = processCPUSeconds() - start.1
        start = (DispatchTime.now().uptimeNanoseconds, processCPUSeconds())
        _ = try mar.refinedTokens(fused, tokens: height * width)
        let marWall = Double(DispatchTime.now().uptimeNanoseconds - start.0) / 1e9
        let marCPU = processCPUSeconds() - start.1
        rows.append((stfWall, stfCPU, marWall, marCPU))
        print(
            String(
                format: "  run %d: STF %.2f s wall, %.2f s CPU; MAR %.3f s wall, %.3f s CPU", run, stfWall, stfCPU,
                marWall, marCPU))
    }
    func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    print(
        String(
            format: "  median of %d: STF %.2f s wall, %.2f s CPU; MAR %.3f s wall, %.3f s CPU", runs,
            middle(rows.map(\.stfWall)), middle(rows.map(\.stfCPU)), middle(rows.map(\.marWall)),
            middle(rows.map(\.marCPU))))
    print("  load average at end: \(loadAverage())")
}

/// Random weights with the release's names and three frames' features, as
/// the bench's engine section makes them.
func makeEngineInputs(directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let python = ProcessInfo.processInfo.environment["SEGSCOPE_PYTHON"] ?? "python3"
    let tools =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/Tests/Tools"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        python, "-c",
        """
        import sys
        sys.path.insert(0, sys.argv[2])
        import numpy as np, stf_mar_reference as ref
        from safetensors.numpy import save_file
        p, rng = ref.random_weights(512, 2, 16, 16, 128, 256, 256, 19, 10, 1, 3)
        save_file(p, sys.argv[1] + "/w.safetensors", metadata={"heads": "2", "block_size": "16,16"})
        for n in ("prev", "cur", "next"):
            np.save(sys.argv[1] + "/%s.npy" % n, rng.standard_normal((512, 128, 256)).astype(np.float32))
        """, directory, tools,
    ]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError(
            "\(directory): \(python) could not make the weights (needs numpy and safetensors)")
    }
}

/// The 1-, 5- and 15-minute load averages (other work on the shared cores).
func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// A bench step that could not measure what it measures, in a sentence.
struct BenchError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
