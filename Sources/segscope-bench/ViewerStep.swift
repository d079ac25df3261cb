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
