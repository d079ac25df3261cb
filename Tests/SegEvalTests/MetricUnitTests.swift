import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegTestSupport
import Testing

/// The metric units: shards keep every unit's counts, merges are checked,
/// scopes sum frames, unreadable files are collected.
@Suite struct MetricUnitTests {
    @Test func everyUnitSurvivesAShardRoundTrip() throws {
        let root = try EvalData.make(frames: 6)
        let evaluation = try Evaluator.run(try EvalData.dataset(root))
        let path = root + "/all.st"
        try Shards.write(evaluation, to: path)
        let read = try Shards.read(path: path)
        for (a, b) in zip(evaluation.results, read.results) {
            #expect(a.counts == b.counts, "\(a.name)")
            #expect(
                a.shared?.method == b.shared?.method && a.shared?.reference == b.shared?.reference, "\(a.name) shared")
        }
        #expect(Report(read).render(.csv) == Report(evaluation).render(.csv))
        #expect(try ScopeReport(read, per: .frame).render(.json) == ScopeReport(evaluation, per: .frame).render(.json))
    }

    @Test func mergesThatDoNotFitAreErrors() throws {
        let root = try EvalData.make(frames: 3)
        let evaluation = try Evaluator.run(try EvalData.dataset(root))
        var a = evaluation.results[0].counts
        var counts = a.confusion.counts
        counts[0] = 1 << 62
        a.confusion = ConfusionMatrix(classes: a.confusion.classes, counts: counts)
        var sum = a
        #expect(throws: MetricError.self) { try sum.merge(a) }
        var fine = evaluation.results[0].counts
        try fine.merge(evaluation.results[0].counts)
        #expect(fine.confusion.total == 2 * evaluation.results[0].counts.confusion.total)
    }

    /// Each sequence's row of `--per sequence` equals an evaluation restricted to that sequence's frames.
    @Test func perSequenceEqualsTheScopedEvaluation() throws {
        let root = try EvalData.make(frames: 6)
        let dataset = try EvalData.dataset(root)
        let evaluation = try Evaluator.run(dataset)
        let rows = try ScopeReport(evaluation, per: .sequence).rows()
        #expect(rows.count == dataset.sequences.count)
        for (row, sequence) in zip(rows, dataset.sequences) {
            var options = EvaluationOptions()
            options.scope = Set(sequence.frames.map(\.key))
            let scoped = try Evaluator.run(dataset, options: options)
            #expect(row.name == sequence.name)
            for (m, result) in scoped.results.enumerated() {
                #expect(row.matrices[m] == result.counts.confusion, "\(sequence.name) \(result.name)")
                #expect(row.frames[m] == result.counts.frames.count)
            }
            #expect(row.deltas[0] == scoped.results[1].metrics.meanIoU - scoped.results[0].metrics.meanIoU)
        }
    }

    @Test func unreadableFilesAreCollectedNotOnlyTheFirst() throws {
        let root = try EvalData.make(frames: 6)
        let frames = try FileManager.default.subpathsOfDirectory(atPath: root + "/pred/b").filter {
            $0.hasSuffix(".png")
        }.sorted()
        for name in frames.prefix(2) {
            try Data("broken".utf8).write(to: URL(fileURLWithPath: root + "/pred/b/" + name))
        }
        let dataset = try EvalData.dataset(root)
        #expect {
            _ = try Evaluator.run(dataset)
        } throws: { error in
            guard case EvaluationError.unreadable(let files) = error else { return false }
            return files.count == 2
        }
        var options = EvaluationOptions()
        options.skipUnreadable = true
        let evaluation = try Evaluator.run(dataset, options: options)
        #expect(evaluation.unreadable.count == 2)
        #expect(evaluation.result("b")!.counts.frames.count == 4 && evaluation.result("a")!.counts.frames.count == 6)
        #expect(evaluation.result("b")!.shared?.frames == 4)
    }

    @Test func repeatedWarningsCollapse() {
        let notes = [
            "x/1.png: 16 pixels hold no trainIds value", "x/2.png: 3 pixels hold no trainIds value", "something else",
            "x/3.png: 700 pixels hold no trainIds value",
        ]
        #expect(
            Warnings.collapse(notes) == [
                "x/1.png: 16 pixels hold no trainIds value (and 2 more like it)", "something else",
            ])
    }
}
