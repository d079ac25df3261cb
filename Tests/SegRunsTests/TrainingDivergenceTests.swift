import Foundation
import SegDataset
import SegFormats
import SegRuns
import SegTestSupport
import Testing

/// The CLI refuses a learning rate above 10 before any work; the library still guards against a loss
/// or weight that stops being finite, whatever the cause.
@Suite struct TrainingDivergenceTests {
    static func run(
        _ data: Dataset, out: String, learningRate: Double, resume: Bool = false,
        stopAfter: Int? = nil
    ) throws {
        var run = TrainingRun(head: .classifier, data: data, out: out)
        (run.options.epochs, run.options.batch, run.options.seed) = (3, 2, 3)
        run.options.learningRate = learningRate
        (run.resume, run.stopAfter) = (resume, stopAfter)
        try run.run { _ in }
    }

    @Test func divergedTrainingStopsAndKeepsTheLastGoodCheckpoint() throws {
        let root = try TestSupport.scratchDirectory()
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", "2", "--frames", "3",
            "--size", "64x128", "--feature-dim", "32", "--split", "train",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        var options = DatasetOptions()
        options.path = root + "/data"
        let data = try DatasetLocator.open(options)
        let out = root + "/c.safetensors"

        #expect {
            try Self.run(data, out: out, learningRate: 1e308)
        } throws: { "\($0)".contains("epoch 1: ") && "\($0)".contains("diverged") }
        #expect(!FileManager.default.fileExists(atPath: out), "nothing is written when the first epoch diverges")

        try Self.run(data, out: out, learningRate: 1e-3, stopAfter: 1)
        let kept = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect {
            try Self.run(data, out: out, learningRate: 1e308, resume: true)
        } throws: { "\($0)".contains("epoch 2: ") && "\($0)".contains("\(out) holds epoch 1") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == kept, "epoch 1's checkpoint is kept")
        #expect(try SafetensorsFile(path: out).floats("classifier.weight").allSatisfy(\.isFinite))
    }
}
