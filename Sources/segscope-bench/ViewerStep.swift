import Foundation
import SegDataset
import SegLabels
import SegSynth
import SegView

/// The viewer's steps on a 240x70 terminal with 4 panes of 2048x1024 maps
/// (frame, GT, two methods) of the street at `root` (20 frames or more):
/// `repeats` cold steps (a jump beyond the prefetch window: decode, analysis,
/// draw) and as many warm ones (to the next frame, prefetched: analysis and
/// draw), in seconds each: wall time, the process's CPU time (which other
/// work on the machine inflates less), and a warm step's wall time split into
/// the controller's analysis (`model()`) and the compositor's drawing.
struct ViewerSteps {
    var warm: [Double] = [], cold: [Double] = [], warmCPU: [Double] = [], coldCPU: [Double] = []
    var warmAnalysis: [Double] = [], warmDrawing: [Double] = []
}

func viewerSteps(root: String, predictions: [String], bookmarks: String, repeats: Int = 5) throws -> ViewerSteps {
    var options = DatasetOptions()
    options.path = root
    try options.addMethods(predictions: predictions, confidences: [])
    options.predictionEncoding = .labelIds
    let dataset = try DatasetLocator.open(options)
    var steps = ViewerSteps()
    func measured(_ wall: inout [Double], _ cpu: inout [Double], _ body: () throws -> Void) rethrows {
        let start = processCPUSeconds()
        wall.append(try seconds(body))
        cpu.append(processCPUSeconds() - start)
    }
    let controller = try ViewerController(
        dataset: dataset, theme: .builtIn(for: .cityscapes), bookmarksPath: bookmarks)
    controller.screenSize = (240, 70)
    _ = controller.statistics.compute(sequence: 0)  // computed once per sequence, in the background, in the viewer
    func settle() { while controller.cache.isLoading { usleep(1000) } }
    for step in stride(from: 0, to: 4 * repeats, by: 4) {
        settle()
        measured(&steps.cold, &steps.coldCPU) {
            controller.go(sequence: 0, frame: step)
            _ = controller.cache.load(controller.frameIndex)
            _ = Compositor(model: controller.model(), width: 240, height: 70).compose()
        }
        settle()
        measured(&steps.warm, &steps.warmCPU) {
            controller.go(sequence: 0, frame: step + 1)
            var model: ViewModel?
            steps.warmAnalysis.append(seconds { model = controller.model() })
            steps.warmDrawing.append(seconds { _ = Compositor(model: model!, width: 240, height: 70).compose() })
        }
    }
    return steps
}

/// `segscope-bench viewer-child`: the viewer's steps alone, on a street of its
/// own (both methods are the GT), for profiling (e.g. under perf record).
func viewerChild() throws {
    let folder = NSTemporaryDirectory() + "segscope-viewer-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var street = SyntheticDataset()
    (street.sequences, street.frames, street.height, street.width) = (1, 20, 1024, 2048)
    street.writeFeatures = false
    street.split = "val"
    try street.write(to: folder + "/street", force: false)
    let gt = folder + "/street/gtFine/val/synth"
    let steps = try viewerSteps(
        root: folder + "/street", predictions: ["a=\(gt)", "b=\(gt)"], bookmarks: folder + "/b.json")
    print("warm \(steps.warm.map(ms).joined(separator: ", "))")
    print("cold \(steps.cold.map(ms).joined(separator: ", "))")
    print("median warm \(ms(median(steps.warm)))   cold \(ms(median(steps.cold)))")
    print("median CPU warm \(ms(median(steps.warmCPU)))   cold \(ms(median(steps.coldCPU)))")
    print("median warm analysis \(ms(median(steps.warmAnalysis)))   drawing \(ms(median(steps.warmDrawing)))")
}

/// The explain view's cursor step at the release's size: a 1-sequence street of three 1024x2048 frames whose
/// features are `features` (T-1, T, T+1: [512, 128, 256] npy) and STF/MAR `weights`; the window's context is
/// built once (as the viewer does in the background), then each step moves the cursor by a key and draws the
/// 240x70 screen (the query, the selected map, the heat over three panes and the panel), in seconds each.
func explainCursorSteps(weights: String, features: [String], work: String, steps count: Int = 12) throws -> [Double] {
    let root = work + "/explain-street"
    try? FileManager.default.removeItem(atPath: root)
    var street = SyntheticDataset()
    (street.sequences, street.frames, street.height, street.width) = (1, 3, 1024, 2048)
    street.writeFeatures = false
    street.split = "val"
    try street.write(to: root, force: false)
    var options = DatasetOptions()
    options.path = root
    let keys = try DatasetLocator.open(options).sequences[0].frames.map(\.key)
    let folder = root + "/features/val/synth"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for (key, path) in zip(keys, features) {
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/\(key).npy", withDestinationPath: path)
    }
    options.features = root + "/features"
    let dataset = try DatasetLocator.open(options)
    let controller = try ViewerController(
        dataset: dataset, theme: .builtIn(for: .cityscapes), bookmarksPath: work + "/explain-bookmarks.json",
        weights: weights)
    controller.screenSize = (240, 70)
    controller.blocking = true
    controller.go(sequence: 0, frame: 1)
    _ = controller.cache.load(controller.frameIndex)
    _ = controller.handle(.character("X"))
    _ = Compositor(model: controller.model(), width: 240, height: 70).compose()
    guard case .success? = controller.model().explain?.result else {
        throw BenchError("explain view: no explanation at the release's size")
    }
    return try (0..<count).map { step in
        try seconds {
            _ = controller.handle(step % 4 < 2 ? .left : .up)
            let model = controller.model()
            guard case .success? = model.explain?.result else { throw BenchError("explain view: a step failed") }
            _ = Compositor(model: model, width: 240, height: 70).compose()
        }
    }
}
