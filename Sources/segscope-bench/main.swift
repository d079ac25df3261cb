// `make bench`: speed figures for segscope against named peers measured in
// the same run on the same files, ending in one table of ratios and targets.
// Peers (every BLAS on the machine, numpy, Pillow, cityscapesScripts, chafa,
// PyTorch, onnxruntime) are skipped with a note when they are not installed.
import CMallocTuning
import Dispatch
import Foundation
import SegDataset
import SegEngine
import SegEval
import SegFormats
import SegLabels
import SegRuns
import SegSynth
import SegView

// The same allocator settings as the segscope command.
segscope_tune_malloc(32 << 20, 512 << 20)

// A child of the bench: the backbone on one frame in a fresh process, so its
// peak memory is the frame's alone (weights included). Prints JSON.
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "backbone-child" {
    let dir = CommandLine.arguments[2]
    let model = try Model.load(path: dir + "/psp50.safetensors")
    let image = try Npy.read(path: dir + "/image.npy").uint8s()
    let start = DispatchTime.now().uptimeNanoseconds
    _ = model.backbone!.features(rgb: image, height: 1024, width: 2048)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let hwm =
        status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?.split(separator: " ").dropFirst().first.flatMap
    { Int($0) } ?? 0
    print("{\"seconds\": \(seconds), \"peak_rss\": \(hwm * 1024)}")
    exit(0)
}
// A child of the bench: the backbone's 3x3 convolutions on their shapes at
// 1024x2048, by Winograd F(2x2), F(4x4) and as GEMMs, in CPU seconds of the
// process (not wall time, which other work on the machine inflates).
if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "convolution-child" {
    convolutionProfile()
    exit(0)
}
// A child of the bench: the viewer's steps alone (ViewerStep.swift), for profiling.
if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "viewer-child" {
    try viewerChild()
    exit(0)
}
// A child of the bench: one BLAS library, loaded on its own (BLASProbe.swift).
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "blas-child" {
    blasChild(path: CommandLine.arguments[2])
    exit(0)
}
// A child of the bench: STF and MAR alone, repeated (EngineProfile.swift).
if (3...4).contains(CommandLine.arguments.count) && CommandLine.arguments[1] == "engine-child" {
    let runs = CommandLine.arguments.count == 4 ? Int(CommandLine.arguments[3]) : 5
    guard let runs, (1...100).contains(runs) else {
        FileHandle.standardError.write(Data("segscope-bench engine-child: RUNS must be 1 to 100\n".utf8))
        exit(2)
    }
    do {
        try engineChild(directory: CommandLine.arguments[2], runs: runs)
    } catch {
        FileHandle.standardError.write(Data("segscope-bench engine-child: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
// A child of the bench: the explain view's cursor steps at the release's size alone (ViewerStep.swift),
// on engine-child's inputs in DIR (made when missing).
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "explain-child" {
    let directory = CommandLine.arguments[2]
    do {
        if !FileManager.default.fileExists(atPath: directory + "/w.safetensors") {
            try makeEngineInputs(directory: directory)
        }
        let steps = try explainCursorSteps(
            weights: directory + "/w.safetensors", features: ["prev", "cur", "next"].map { "\(directory)/\($0).npy" },
            work: directory)
        print("explain view cursor steps: \(steps.map(ms).joined(separator: ", "))")
        print("median \(ms(median(steps))), load average \(loadAverage())")
    } catch {
        FileHandle.standardError.write(Data("segscope-bench explain-child: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
let python = ProcessInfo.processInfo.environment["SEGSCOPE_PYTHON"] ?? "python3"
let work = NSTemporaryDirectory() + "segscope-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Peak resident memory of this process since the last `resetPeakRSS()`
/// (Linux VmHWM; writing 5 to clear_refs resets it).
func resetPeakRSS() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
func peakRSS() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
    return (line?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
}

/// Runs a command and returns its stdout, or nil if it fails (peer missing).
func run(_ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}

func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }

/// One row of the closing table: a figure, segscope's value, a peer's, and
/// the ratio against its target (`higherIsBetter`: the ratio must reach the
/// target; else stay at or under it).
struct RatioRow {
    let figure: String
    let ours: String
    let peer: String
    let ratio: Double
    let target: Double
    let higherIsBetter: Bool
    var holds: Bool { higherIsBetter ? ratio >= target : ratio <= target }
}
nonisolated(unsafe) var ratios: [RatioRow] = []

func printRatioTable() {
    let header = ["figure", "segscope", "peer", "ratio", "target", "holds"]
    let rows = ratios.map { r in
        [
            r.figure, r.ours, r.peer, String(format: "%.2f", r.ratio),
            (r.higherIsBetter ? ">= " : "<= ") + String(format: "%.2f", r.target),
            r.holds ? "yes" : "NO",
        ]
    }
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            i == 0 || i == 2
                ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[i] - cell.count) + cell
        }.joined(separator: "  ")
    }
    print("Ratios (speed: peer time / segscope time; memory and fractions as named)")
    print(line(header))
    print(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
    for row in rows { print(line(row)) }
    print("\(ratios.filter(\.holds).count) of \(ratios.count) targets hold")
}

let cpu =
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(
        in: .whitespaces) ?? "unknown CPU"
print("segscope bench on \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu)")
print("")

// 0. Every BLAS on the machine on the engine's GEMM shapes.
var bestSgemm = measuredSgemmGFLOPS()
do {
    let me = CommandLine.arguments[0]
    var table: [(name: String, rates: [Double], threaded: Double)] = []
    for library in debianBLAS where FileManager.default.fileExists(atPath: library.path) {
        guard let out = run([me, "blas-child", library.path]),
            let json = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
            let rates = json["engine"] as? [Double], let threaded = json["threaded"] as? Double
        else { continue }
        let kernels = json["kernels"] as? String ?? ""
        table.append((library.name + (kernels.isEmpty ? "" : ", \(kernels)"), rates, threaded))
    }
    if let numpy = numpyProbe(python: python) { table.append(numpy) }
    let missing = debianBLAS.filter { !FileManager.default.fileExists(atPath: $0.path) }.map(\.name)
    print(
        "BLAS on the engine's GEMM shapes, GFLOP/s on all \(ProcessInfo.processInfo.activeProcessorCount) cores: one single-threaded GEMM"
    )
    print("per core at once (the engine's way), and the library's own threads on 2048³ (last column)")
    let nameWidth = max(24, table.map(\.name.count).max() ?? 0)
    for (i, shape) in engineShapes.enumerated() { print("  [\(i + 1)] \(shape.name)") }
    print(
        "  " + "library".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            + engineShapes.indices.map { String(repeating: " ", count: 5) + "[\($0 + 1)]" }.joined() + "  threaded")
    for row in table {
        print(
            "  " + row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + row.rates.map { String(format: "%8.0f", $0) }.joined() + String(format: "  %8.0f", row.threaded))
    }
    if !missing.isEmpty {
        print("  not installed: \(missing.joined(separator: ", ")) (make setup-bench installs them)")
    }
    let bestDebian = table.filter { !$0.name.hasPrefix("numpy") }.max { $0.rates.reduce(0, +) < $1.rates.reduce(0, +) }
    if let bestDebian {
        print(
            "  segscope runs \(blasKernels) (\(blasPath ?? "none")); fastest Debian BLAS over the engine's shapes: \(bestDebian.name)"
        )
    }
    bestSgemm = max(bestSgemm, table.flatMap { $0.rates + [$0.threaded] }.max() ?? 0)
    print(String(format: "  best sgemm measured in this run: %.0f GFLOP/s", bestSgemm))
    print("")
}

// A 1024x2048 street: frames, GT in three encodings (no features yet).
var street = SyntheticDataset()
street.sequences = 1
street.frames = 20
street.height = 1024
street.width = 2048
street.writeFeatures = false
street.split = "val"
let streetRoot = work + "/street"
let synthFramesOnly = try seconds { try street.write(to: streetRoot, force: false) }
let gtDir = streetRoot + "/gtFine/val/synth"
let keys = (0..<20).map { SyntheticDataset.key(sequence: 0, frame: $0) }

// 1. PNG decode of a 1024x2048 8-bit label PNG.
do {
    let path = gtDir + "/\(keys[0])_gtFine_labelIds.png"
    _ = try PNG.read(path: path)
    let ours = median(try (0..<15).map { _ in try seconds { _ = try PNG.read(path: path) } })
    let peer = run([
        python, "-c",
        """
        import sys, time
        import numpy as np
        from PIL import Image
        times = []
        for _ in range(15):
            t = time.perf_counter(); a = np.asarray(Image.open(sys.argv[1])); times.append(time.perf_counter() - t)
        print(sorted(times)[len(times) // 2])
        """, path,
    ]).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    print("PNG read, 1024x2048 8-bit labelIds (median of 15)")
    print(
        "  segscope \(ms(ours))"
            + (peer.map {
                "   Pillow+numpy \(ms($0))   segscope/Pillow = \(String(format: "%.2f", ours / $0)) (target <= 1.2)"
            } ?? "   Pillow not installed"))
    if let peer {
        ratios.append(
            RatioRow(
                figure: "PNG read 1024x2048, time / Pillow's", ours: ms(ours), peer: "Pillow " + ms(peer),
                ratio: ours / peer, target: 1.2, higherIsBetter: false))
    }
    print("")
}

// 2. Evaluation of 20 pairs at 1024x2048 against cityscapesScripts.
do {
    // Predictions: GT labelIds with blocks of changed labels, written as labelIds.
    let predDir = work + "/pred"
    try FileManager.default.createDirectory(atPath: predDir, withIntermediateDirectories: true)
    for (i, key) in keys.enumerated() {
        var ids = try PNG.read(path: gtDir + "/\(key)_gtFine_labelIds.png").bytes!
        for p in stride(from: (i * 7919) % 977, to: ids.count, by: 977) { ids[p] = UInt8((Int(ids[p]) + 5) % 34) }
        try PNG.write(
            PNGImage(width: 2048, height: 1024, colorType: .gray, bitDepth: 8, samples: .eight(ids)),
            to: predDir + "/\(key)_pred.png", compressionLevel: 1)
    }
    var options = DatasetOptions()
    options.groundTruth = gtDir
    options.space = .cityscapes
    options.groundTruthEncoding = .labelIds
    options.predictionEncoding = .labelIds
    try options.addMethods(predictions: ["p=\(predDir)"], confidences: [])
    let dataset = try DatasetLocator.open(options)
    // Like for like with the peers: what cityscapesScripts' pixel-level
    // evaluation computes (class IoU), and nothing it does not (band, Boundary
    // IoU, flicker and VC are segscope's own figures).
    var evaluation: Evaluation?
    var peerOptions = EvaluationOptions()
    peerOptions.band = 0
    peerOptions.boundaryRatio = nil
    peerOptions.temporal = false
    let ours = median(
        try (0..<3).map { _ in try seconds { evaluation = try Evaluator.run(dataset, options: peerOptions) } })
    // eval's default, every default metric: band, Boundary IoU, and flicker
    // and VC (the 20 frames are one sequence), in wall seconds and in CPU
    // seconds of this process (all threads; other work on the machine
    // inflates them less than wall time).
    func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
    var defaultEvaluation: Evaluation?
    var defaultRuns: [(wall: Double, cpu: Double)] = []
    for _ in 0..<3 {
        let cpuBefore = processCPUSeconds()
        let wall = try seconds { defaultEvaluation = try Evaluator.run(dataset, options: EvaluationOptions()) }
        defaultRuns.append((wall, processCPUSeconds() - cpuBefore))
    }
    let defaultSeconds = median(defaultRuns.map(\.wall))
    let defaultCPU = median(defaultRuns.map(\.cpu))
    let temporal = defaultEvaluation!.result("p")!.counts.temporal
    // Where the time goes (a separate run: timing adds clock reads).
    var timedOptions = EvaluationOptions()
    let timing = EvaluationTiming()
    timedOptions.timing = timing
    _ = try Evaluator.run(dataset, options: timedOptions)
    let peerOutput = run([
        python, "-c",
        """
        import glob, json, sys, time
        from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as ev
        ev.args.evalInstLevelScore = False; ev.args.quiet = True; ev.args.JSONOutput = False
        gts = sorted(glob.glob(sys.argv[1] + "/*_labelIds.png"))
        preds = [sys.argv[2] + "/" + g.split("/")[-1].replace("_gtFine_labelIds", "_pred") for g in gts]
        t = time.perf_counter(); r = ev.evaluateImgLists(preds, gts, ev.args); t = time.perf_counter() - t
        print(json.dumps({"seconds": t, "miou": r["averageScoreClasses"], "csupport": ev.CSUPPORT}))
        """, gtDir, predDir,
    ])
    print("Evaluation, 20 pairs of 1024x2048 labelIds")
    if let text = peerOutput, let peer = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
        let peerSeconds = peer["seconds"] as? Double, let peerMIoU = peer["miou"] as? Double
    {
        let ourMIoU = evaluation!.result("p")!.metrics.meanIoU
        print(
            String(
                format: "  segscope %.2f s   cityscapesScripts %.2f s (Cython: %@)   speed-up %.1fx (target >= 2.5)",
                ours, peerSeconds,
                (peer["csupport"] as? Bool ?? false) ? "yes" : "no", peerSeconds / ours))
        print(
            "  mIoU segscope \(ourMIoU) vs cityscapesScripts \(peerMIoU): \(abs(ourMIoU - peerMIoU) < 1e-9 ? "identical" : "DIFFERENT")"
        )
        ratios.append(
            RatioRow(
                figure: "eval 20 pairs, speed-up on cityscapesScripts", ours: String(format: "%.2f s", ours),
                peer: String(format: "cityscapesScripts %.2f s", peerSeconds), ratio: peerSeconds / ours, target: 3,
                higherIsBetter: true))
        print(
            String(
                format: "  eval default (band, Boundary IoU, flicker, VC) %.2f s   speed-up on cityscapesScripts %.2fx",
                defaultSeconds, peerSeconds / defaultSeconds) + " (target >= 1.00)")
        ratios.append(
            RatioRow(
                figure: "eval default, speed-up on cityscapesScripts (IoU only)",
                ours: String(format: "%.2f s", defaultSeconds),
                peer: String(format: "cityscapesScripts %.2f s", peerSeconds), ratio: peerSeconds / defaultSeconds,
                target: 1, higherIsBetter: true))
    } else {
        print(String(format: "  segscope %.2f s   cityscapesScripts not installed", ours))
    }
    // The way mmsegmentation and VSPW count: numpy bincount of gt * K + pred
    // over Pillow-decoded files (labelIds mapped to trainIds by a lookup table).
    let numpyOutput = run([
        python, "-c",
        """
        import glob, json, sys, time
        import numpy as np
        from PIL import Image
        from cityscapesscripts.helpers.labels import labels
        k = 19
        lut = np.full(256, k, np.int64)
        for l in labels:
            if 0 <= l.trainId < k: lut[l.id] = l.trainId
        ignore = np.zeros(256, bool)
        for l in labels:
            if l.ignoreInEval and 0 <= l.id < 256: ignore[l.id] = True
        gts = sorted(glob.glob(sys.argv[1] + "/*_labelIds.png"))
        preds = [sys.argv[2] + "/" + g.split("/")[-1].replace("_gtFine_labelIds", "_pred") for g in gts]
        def once():
            decode = count = 0.0
            cm = np.zeros(k * (k + 1), np.int64)
            for g, p in zip(gts, preds):
                t = time.perf_counter(); gt = np.asarray(Image.open(g)); pr = np.asarray(Image.open(p)); decode += time.perf_counter() - t
                t = time.perf_counter()
                valid = ~ignore[gt]
                cm += np.bincount(lut[gt[valid]] * (k + 1) + lut[pr[valid]], minlength=k * (k + 1))
                count += time.perf_counter() - t
            return decode, count, cm.reshape(k, k + 1)
        runs = [once() for _ in range(3)]
        decode, count, cm = sorted(runs, key=lambda r: r[0] + r[1])[1]
        tp = np.diag(cm[:, :k]).astype(float); union = cm.sum(1) + cm[:, :k].sum(0) - tp
        with np.errstate(invalid="ignore", divide="ignore"): iou = tp / union
        print(json.dumps({"decode": decode, "confusion": count, "miou": float(np.nanmean(iou))}))
        """, gtDir, predDir,
    ])
    if let text = numpyOutput, let peer = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
        let decode = peer["decode"] as? Double, let counting = peer["confusion"] as? Double,
        let peerMIoU = peer["miou"] as? Double
    {
        let ourMIoU = evaluation!.result("p")!.metrics.meanIoU
        print(
            String(
                format:
                    "  numpy bincount (Pillow decode %.2f s + bincount %.2f s, one thread) %.2f s   speed-up %.1fx   mIoU %@",
                decode, counting,
                decode + counting, (decode + counting) / ours,
                abs(ourMIoU - peerMIoU) < 1e-9 ? "identical" : "DIFFERENT: \(peerMIoU)"))
        ratios.append(
            RatioRow(
                figure: "eval 20 pairs, speed-up on numpy bincount", ours: String(format: "%.2f s", ours),
                peer: String(format: "numpy bincount %.2f s", decode + counting), ratio: (decode + counting) / ours,
                target: 1, higherIsBetter: true))
    } else {
        print("  numpy bincount peer could not run (needs numpy, Pillow, cityscapesscripts)")
    }
    let totals = timing.totals
    let cpu = totals.values.reduce(0, +)
    print(
        String(
            format: "  eval default: %.2f s, %.2f s of CPU (median of 3); flicker over %ld frame pairs, "
                + "VC8 %ld windows, VC16 %ld windows", defaultSeconds, defaultCPU, temporal.pairs.count,
            temporal.windows[8]?.count ?? 0,
            temporal.windows[16]?.count ?? 0))
    print(
        "  segscope per pair, summed over threads (\(ProcessInfo.processInfo.activeProcessorCount) cores): "
            + EvaluationTiming.Stage.allCases.compactMap { stage in
                totals[stage].map { String(format: "%@ %.1f ms", stage.rawValue, $0 / 20 * 1000) }
            }
            .joined(separator: ", ")
            + String(format: "; total %.1f ms of CPU per pair", cpu / 20 * 1000)
            + " (flicker and VC, a second pass not timed by stage, not included)")
    print("")
}

// 3. Viewer steps: 240x70 terminal, 4 panes of 2048x1024 maps (frame, GT, 2 methods).
do {
    let steps = try viewerSteps(
        root: streetRoot, predictions: ["a=\(work)/pred", "b=\(gtDir)"], bookmarks: work + "/b.json")
    let (warm, cold) = (steps.warm, steps.cold)
    print("Viewer step, 240x70 cells, 4 panes of 2048x1024 (median of 5)")
    print(
        "  warm (decoded) \(ms(median(warm))) (target <= 16 ms)   cold (decode + draw) \(ms(median(cold))) (target <= 100 ms)"
    )
    print(
        "  CPU time: warm \(ms(median(steps.warmCPU))), cold \(ms(median(steps.coldCPU)));"
            + " warm split: analysis \(ms(median(steps.warmAnalysis))), drawing \(ms(median(steps.warmDrawing)))")
    ratios.append(
        RatioRow(
            figure: "viewer warm step, ms / 16 ms budget", ours: ms(median(warm)), peer: "-",
            ratio: median(warm) / 0.016, target: 1, higherIsBetter: false))
    ratios.append(
        RatioRow(
            figure: "viewer cold step, ms / 100 ms budget", ours: ms(median(cold)), peer: "-",
            ratio: median(cold) / 0.1, target: 1, higherIsBetter: false))
    let frame = streetRoot + "/leftImg8bit_sequence/val/synth/\(keys[0])_leftImg8bit.png"
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "segscope"
    ).path
    let ours = median(
        (0..<5).map { _ in
            seconds {
                _ = run([
                    binary, "render", "--frames", streetRoot + "/leftImg8bit_sequence", "--frame", keys[0],
                    "--layout", "single", "--cols", "240", "--rows", "70", "--ansi",
                ])
            }
        })
    if run(["chafa", "--version"]) != nil {
        let peer = median(
            (0..<5).map { _ in seconds { _ = run(["chafa", "--size", "240x70", "--symbols", "vhalf", frame]) } })
        print(
            "  render one 2048x1024 frame to 240x70 ANSI: segscope \(ms(ours))   chafa \(ms(peer))   segscope/chafa = \(String(format: "%.2f", ours / peer))"
        )
        ratios.append(
            RatioRow(
                figure: "render 2048x1024 to ANSI, speed-up on chafa", ours: ms(ours), peer: "chafa " + ms(peer),
                ratio: peer / ours, target: 1, higherIsBetter: true))
    } else {
        print("  render one 2048x1024 frame to 240x70 ANSI: segscope \(ms(ours))   chafa not installed")
    }
    print("")
}

// 4. Engine at the release's size: C = 512, 128x256 features, heads 2, blocks
// 16x16, FFN 256, 19 classes, KL = 10 (random weights with the release's names).
do {
    let dir = work + "/engine"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // The same inputs engine-child makes (EngineProfile.swift); false when Python could not make them.
    let made = (try? makeEngineInputs(directory: dir)) != nil
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let peak = measuredSgemmGFLOPS()
    var stf: [Double] = []
    var mar: [Double] = []
    var rss: [Int] = []
    for _ in 0..<(!made ? 0 : 3) {
        // What `segscope forward` runs: load, read the window, forward, write.
        resetPeakRSS()
        guard let model = try? Model.load(path: dir + "/w.safetensors"),
            let outputs = try? WindowForward(model: model, weightsName: "w").run(
                paths: ["prev", "cur", "next"].map { "\(dir)/\($0).npy" },
                to: dir + "/out", warn: { _ in }),
            let s = outputs.seconds("STF"), let m = outputs.seconds("MAR")
        else { continue }
        stf.append(s)
        mar.append(m)
        rss.append(peakRSS())
    }
    // The release's modules in PyTorch (as make check-pytorch builds them) and
    // the same modules exported to ONNX for onnxruntime, on all cores, median of 3.
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let peers =
        !made
        ? nil
        : run([
            python, "-c",
            """
            import json, sys, time
            sys.path.insert(0, sys.argv[2])
            import numpy as np, torch
            import check_pytorch as release, export_onnx
            threads, d = int(sys.argv[3]), sys.argv[1]
            torch.set_num_threads(threads)
            frames = [torch.from_numpy(np.load("%s/%s.npy" % (d, n))) for n in ("prev", "cur", "next")]
            model, hb, wb = export_onnx.load(d + "/w.safetensors")
            def median(f):
                times = []
                for _ in range(3):
                    t = time.perf_counter(); out = f(); times.append(time.perf_counter() - t)
                return sorted(times)[1], out
            result = {"torch": torch.__version__}
            with torch.no_grad():
                result["torch_stf"], fused = median(lambda: release.stf(model.STF, frames, hb, wb))
                result["torch_mar"], _ = median(lambda: release.mar(model.MAR, fused))
            try:
                import onnxruntime as ort
                sys.argv = ["export_onnx.py", d + "/w.safetensors", "512", "128", "256", d]
                export_onnx.main()
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                stf = ort.InferenceSession(d + "/stf.onnx", options, providers=["CPUExecutionProvider"])
                mar = ort.InferenceSession(d + "/mar.onnx", options, providers=["CPUExecutionProvider"])
                feeds = {"prev": frames[0].numpy(), "cur": frames[1].numpy(), "next": frames[2].numpy()}
                result["ort_stf"], fused = median(lambda: stf.run(None, feeds)[0])
                result["ort_mar"], _ = median(lambda: mar.run(None, {"features": fused}))
                result["ort"] = ort.__version__
            except ImportError:
                pass
            print(json.dumps(result))
            """, dir, repository + "/Tests/Tools", "\(cores)",
        ])
    print(
        "Engine, one frame at the release's size (C=512, 128x256, heads 2, blocks 16x16; median of 3 runs of the forward pass, in process)"
    )
    if stf.isEmpty {
        print("  could not run (weights generation needs numpy and safetensors)")
    } else {
        // FLOPs: the paper's 563.5 GMACs for STF; MAR as computed here (the memory's
        // products folded at load: scores x [C, N], output S [N, C], then the FFN).
        let n = 128.0 * 256
        let c = 512.0
        let dh = 256.0
        let rows = 190.0
        let marFLOP = 2 * (2 * n * c * rows + 2 * n * c * dh)
        let s = median(stf)
        let m = median(mar)
        print(
            String(
                format:
                    "  sgemm (2048^3, the engine's way) in this run: %.0f GFLOP/s; best sgemm of any BLAS above: %.0f GFLOP/s (%@)",
                peak, bestSgemm, blasKernels))
        print(
            String(
                format:
                    "  STF %.2f s = %.0f GFLOP/s (%.0f%% of the best sgemm); MAR %.3f s = %.0f GFLOP/s (%.0f%%); peak RSS %.2f GB",
                s, 2 * 563.5 / s, 2 * 563.5 / s / bestSgemm * 100, m, marFLOP / m / 1e9,
                marFLOP / m / 1e9 / bestSgemm * 100, Double(rss.max()!) / 1e9))
        ratios.append(
            RatioRow(
                figure: "STF GFLOP/s / best sgemm", ours: String(format: "%.0f GFLOP/s", 2 * 563.5 / s),
                peer: String(format: "sgemm %.0f", bestSgemm),
                ratio: 2 * 563.5 / s / bestSgemm, target: 0.9, higherIsBetter: true))
        ratios.append(
            RatioRow(
                figure: "MAR GFLOP/s / best sgemm", ours: String(format: "%.0f GFLOP/s", marFLOP / m / 1e9),
                peer: String(format: "sgemm %.0f", bestSgemm),
                ratio: marFLOP / m / 1e9 / bestSgemm, target: 0.9, higherIsBetter: true))
        ratios.append(
            RatioRow(
                figure: "engine peak RSS, GB", ours: String(format: "%.2f GB", Double(rss.max()!) / 1e9), peer: "-",
                ratio: Double(rss.max()!) / 1e9, target: 1.2, higherIsBetter: false))
        if let peers, let json = try? JSONSerialization.jsonObject(with: Data(peers.utf8)) as? [String: Any],
            let torchSTF = json["torch_stf"] as? Double, let torchMAR = json["torch_mar"] as? Double
        {
            let torchVersion = json["torch"] as? String ?? "?"
            print(
                String(
                    format: "  the release's modules in PyTorch %@ (%d threads): STF %.2f s, MAR %.3f s", torchVersion,
                    cores, torchSTF, torchMAR))
            /// The speed-up rows of STF and MAR on one peer.
            func speedUps(
                _ peer: String, name: String, stf peerSTF: Double, mar peerMAR: Double, targets: (Double, Double)
            ) {
                for (part, ours, theirs, format, target) in [
                    ("STF", s, peerSTF, "%.2f s", targets.0), ("MAR", m, peerMAR, "%.3f s", targets.1),
                ] {
                    ratios.append(
                        RatioRow(
                            figure: "\(part) speed-up on \(name)", ours: String(format: format, ours),
                            peer: peer + " " + String(format: format, theirs), ratio: theirs / ours, target: target,
                            higherIsBetter: true))
                }
            }
            speedUps("PyTorch", name: "the release's PyTorch", stf: torchSTF, mar: torchMAR, targets: (3, 4))
            if let ortSTF = json["ort_stf"] as? Double, let ortMAR = json["ort_mar"] as? Double {
                print(
                    String(
                        format:
                            "  the same modules exported to ONNX, onnxruntime %@ (%d threads): STF %.2f s, MAR %.3f s",
                        json["ort"] as? String ?? "?", cores, ortSTF, ortMAR))
                speedUps("onnxruntime", name: "onnxruntime", stf: ortSTF, mar: ortMAR, targets: (1.6, 1))
            } else {
                print("  onnxruntime not installed (make setup-bench)")
            }
        } else {
            print("  PyTorch peer could not run (make setup-bench installs torch)")
        }
    }
    print("")
}

// 4b. Explain at the release's size, on block 4's weights and features: the context built once per
// window (STF with what queries need kept), then single-token queries spread over the frame, each
// against the viewer's 200 ms response budget; then the viewer's whole cursor step under the same budget.
do {
    let dir = work + "/engine"
    if let model = try? Model.load(path: dir + "/w.safetensors"),
        let maps = try? ["prev", "cur", "next"].map({ try FeatureMap.read(path: "\(dir)/\($0).npy") })
    {
        var context: ExplainContext?
        let build = seconds {
            context = try? ExplainContext(
                model: model, previous: maps[0].values, current: maps[1].values, next: maps[2].values,
                height: maps[1].height, width: maps[1].width)
        }
        if let built = context {
            let tokens = (0..<12).map { ($0 * 37 % maps[1].height, $0 * 101 % maps[1].width) }
            let queries = tokens.map { token in seconds { _ = try? built.explain(y: token.0, x: token.1) } }
            let typical = median(queries)
            print(
                String(
                    format: "Explain at C=512, 128x256, 16x16 blocks: context %.1f s per window; one token %@ "
                        + "(median of %d, slowest %@)", build, ms(typical), queries.count, ms(queries.max()!)))
            ratios.append(
                RatioRow(
                    figure: "explain response / 200 ms budget", ours: ms(typical), peer: "budget 200.0 ms",
                    ratio: typical / 0.2, target: 1, higherIsBetter: false))
            // The viewer builds a context of its own: this one's 1.2 GB goes first.
            context = nil
            // A cursor key, the query, the heat over the three 2048x1024 panes and the panel, drawn at 240x70.
            do {
                let steps = try explainCursorSteps(
                    weights: dir + "/w.safetensors", features: ["prev", "cur", "next"].map { "\(dir)/\($0).npy" },
                    work: work)
                let step = median(steps)
                print(
                    "Explain view, cursor step at 240x70 over three 2048x1024 panes: \(ms(step)) "
                        + "(median of \(steps.count), slowest \(ms(steps.max()!)))")
                ratios.append(
                    RatioRow(
                        figure: "explain view cursor step / 200 ms budget", ours: ms(step), peer: "budget 200.0 ms",
                        ratio: step / 0.2, target: 1, higherIsBetter: false))
            } catch {
                print("Explain view: \(error)")
            }
        } else {
            print("Explain: the context could not be built")
        }
    } else {
        print("Explain: no weights or features from block 4")
    }
    print("")
}

// 5. The backbone at the release's size: PSPNet-50 (ResNetV1c-50 D8, PSP head
// 512 channels, 19 classes) on one 1024x2048 frame, random weights built as the
// release's mmseg builds them (Tests/Tools/make_backbone_fixtures.py), against
// the same PyTorch modules on 2 threads; then `forward --images` with STF and MAR.
do {
    let dir = work + "/backbone"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let peer = run([
        python, "-c",
        """
        import json, resource, sys, time
        sys.path.insert(0, sys.argv[2])
        import numpy as np, torch
        import make_backbone_fixtures as m, stf_mar_reference as ref
        from safetensors.numpy import save_file
        torch.set_num_threads(2)
        model = m.PSPNet(50, 64, 64, 512, 19)
        m.randomise(model, torch.Generator().manual_seed(1))
        model.eval()
        weights = {k: v.numpy() for k, v in model.state_dict().items()}
        heads, rng = ref.random_weights(512, 2, 16, 16, 128, 256, 256, 19, 10, 1, 3)
        weights.update(heads)
        save_file(weights, sys.argv[1] + "/psp50.safetensors", metadata={"heads": "2", "block_size": "16,16"})
        image = np.random.default_rng(0).integers(0, 256, size=(1024, 2048, 3), dtype=np.uint8)
        np.save(sys.argv[1] + "/image.npy", image)
        from PIL import Image
        for i in range(3): Image.fromarray(image).save(sys.argv[1] + "/frame%d.png" % i)
        x = torch.from_numpy(((image.astype(np.float32) - m.MEAN) / m.STD).transpose(2, 0, 1)[None].copy())
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with torch.no_grad():
            t = time.perf_counter(); model(x); seconds = time.perf_counter() - t
        print(json.dumps({"seconds": seconds, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "torch": torch.__version__}))
        """, dir, repository + "/Tests/Tools",
    ])
    print("Backbone, one 1024x2048 frame, PSPNet-50 (random weights, the release's architecture)")
    if let peer, let json = try? JSONSerialization.jsonObject(with: Data(peer.utf8)) as? [String: Any],
        let peerSeconds = json["seconds"] as? Double, let peerRSS = json["peak_rss"] as? Int,
        let model = try? Model.load(path: dir + "/psp50.safetensors"), let backbone = model.backbone,
        let child = run([CommandLine.arguments[0], "backbone-child", dir]),
        let measured = try? JSONSerialization.jsonObject(with: Data(child.utf8)) as? [String: Any],
        let ours = measured["seconds"] as? Double, let rss = measured["peak_rss"] as? Int
    {
        let peak = measuredSgemmGFLOPS()
        let flop = backbone.flops(height: 1024, width: 2048)
        print(String(format: "  sgemm peak in this run: %.0f GFLOP/s (2048^3, all cores; BLAS: %@)", peak, blasKernels))
        print(
            String(
                format:
                    "  segscope %.2f s = %.0f GFLOP/s (%.0f%% of peak; %.2f TFLOP)   PyTorch %@ (2 threads) %.2f s   speed-up %.2fx (target >= 2.0)",
                ours, flop / ours / 1e9, flop / ours / 1e9 / peak * 100, flop / 1e12, json["torch"] as? String ?? "?",
                peerSeconds, peerSeconds / ours))
        print(
            String(
                format:
                    "  peak RSS segscope %.2f GB   PyTorch %.2f GB (each a fresh process: weights, frame, activations)   ratio %.2f (target <= 0.5)",
                Double(rss) / 1e9, Double(peerRSS) / 1e9, Double(rss) / Double(peerRSS)))
        ratios.append(
            RatioRow(
                figure: "backbone PSPNet-50 speed-up on PyTorch", ours: String(format: "%.2f s", ours),
                peer: String(format: "PyTorch %.2f s", peerSeconds),
                ratio: peerSeconds / ours, target: 2, higherIsBetter: true))
        ratios.append(
            RatioRow(
                figure: "backbone peak RSS / PyTorch's", ours: String(format: "%.2f GB", Double(rss) / 1e9),
                peer: String(format: "PyTorch %.2f GB", Double(peerRSS) / 1e9),
                ratio: Double(rss) / Double(peerRSS), target: 0.5, higherIsBetter: false))
        let frames = (0..<3).map { "\(dir)/frame\($0).png" }
        let whole = try seconds {
            _ = try WindowForward(model: model, weightsName: "psp50").run(
                images: frames, to: dir + "/out", warn: { _ in })
        }
        print(
            String(
                format: "  forward --images (three frames' backbones, STF, MAR, classifiers): %.1f s per window", whole)
        )
        try pipelineFigure(model: model, work: work)
    } else {
        print("  could not run (the peer needs torch, numpy, safetensors and Pillow: make setup-bench)")
    }
    print("")
}

/// `infer --labelled-only` from frames at 1024x2048 as on Cityscapes, where
/// one frame in 30 has ground truth: a sequence of three frames whose middle
/// one is labelled is one unit of work (three backbone passes, one STF/MAR
/// window, the outputs of every stage written), run through SegRuns as the
/// command runs it. Cityscapes val is 500 such units (1,500 backbone passes).
func pipelineFigure(model: Model, work: String) throws {
    var spec = SyntheticDataset()
    (spec.sequences, spec.frames, spec.height, spec.width) = (1, 3, 1024, 2048)
    (spec.split, spec.writeFeatures) = ("val", false)
    let root = work + "/pipeline"
    try spec.write(to: root, force: false)
    let gt = root + "/gtFine/val/synth"
    let labelled = SyntheticDataset.key(sequence: 0, frame: 1)
    for file in try FileManager.default.contentsOfDirectory(atPath: gt) where !file.hasPrefix(labelled + "_") {
        try FileManager.default.removeItem(atPath: gt + "/" + file)
    }
    var options = DatasetOptions()
    (options.path, options.split) = (root, "val")
    var run = try InferRun(
        model: model, dataset: try DatasetLocator.open(options), folder: work + "/pipeline-run", weightsName: "psp50")
    run.labelledOnly = true
    var computed = 0
    let unit = try seconds { computed = try run.run() }
    guard computed == 1 else {
        print("  infer --labelled-only wrote \(computed) frames where one was expected; no pipeline figure")
        return
    }
    let valHours = 500 * unit / 3600
    print(
        String(
            format:
                "  infer --labelled-only from frames (3 backbone passes, STF, MAR, outputs written): %.1f s per labelled frame, "
                + "%.0f frames per hour; Cityscapes val (500 frames, 1,500 backbone passes) %.1f h (target <= 6 h)",
            unit, 3600 / unit, valHours))
    ratios.append(
        RatioRow(
            figure: "Cityscapes val by infer --labelled-only, h / 6 h", ours: String(format: "%.1f h", valHours),
            peer: "-",
            ratio: valHours / 6, target: 1, higherIsBetter: false))
}

// 6. Synth: 30 frames at 1024x2048 with 512-d features.
do {
    var spec = SyntheticDataset()
    spec.sequences = 1
    spec.frames = 30
    spec.height = 1024
    spec.width = 2048
    spec.featureChannels = 512
    let time = try seconds { try spec.write(to: work + "/synth512", force: false) }
    print("Synth, 30 frames of 1024x2048 with 512-d features (frames, 3 GT encodings, npy)")
    print(
        String(
            format: "  %.1f s (target <= 60 s); the same 20 frames without features took %.1f s", time, synthFramesOnly)
    )
    ratios.append(
        RatioRow(
            figure: "synth 30 frames with features, s / 60 s budget", ours: String(format: "%.1f s", time), peer: "-",
            ratio: time / 60, target: 1, higherIsBetter: false))
    print("")
}

printRatioTable()
