import SegFormats
import SegLabels

/// One frame of one method: its key, sequence, confusion matrix and mIoU.
public struct FrameScore: Sendable, Equatable {
    public let key: String
    public let meanIoU: Double
    /// The sequence the frame belongs to ("" when a shard did not record it).
    public var sequence = ""
    /// The frame's own confusion matrix (nil in shards written before it was kept).
    public var confusion: ConfusionMatrix?

    public init(key: String, meanIoU: Double) {
        self.key = key
        self.meanIoU = meanIoU
    }
}

/// Per-frame scores, in dataset order: what `--per frame|sequence` and
/// `--range` sum, and the `frame` rows of the CSV. Shard: metadata `frames`
/// (method -> [[key, mIoU, sequence], ...], NaN as -1) and tensor
/// `frames.<method>` I64 [F, K, K+1] (each frame's confusion matrix).
public struct FrameScores: MetricUnit {
    public static let name = "frames"
    public var scores: [FrameScore] = []

    public init?(_ setup: MetricSetup) {}
    init(scores: [FrameScore]) { self.scores = scores }

    public mutating func add(_ frame: FrameInput) {
        var score = FrameScore(key: frame.key, meanIoU: Metrics(frame.confusion).meanIoU)
        score.sequence = frame.sequence
        score.confusion = frame.confusion
        scores.append(score)
    }

    public mutating func checkedMerge(_ other: FrameScores) throws(MetricError) { scores += other.scores }

    public func write(method: String, to shard: inout ShardWriter) {
        shard.set(
            "frames", method: method,
            .array(
                scores.map {
                    .array([.string($0.key), .number($0.meanIoU.isNaN ? -1 : $0.meanIoU), .string($0.sequence)])
                }))
        let matrices = scores.compactMap(\.confusion)
        if let first = matrices.first, matrices.count == scores.count {
            shard.add(
                "frames.\(method)", matrices.flatMap(\.counts),
                shape: [matrices.count, first.classes, first.classes + 1])
        }
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> FrameScores? {
        let entries = shard.entry("frames", method: method)?.array ?? []
        let k = setup.classes
        let matrices = try shard.counts("frames.\(method)", shape: [entries.count, k, k + 1])
        var scores: [FrameScore] = []
        for (i, entry) in entries.enumerated() {
            guard let items = entry.array, items.count >= 2, let key = items[0].string else {
                throw shard.bad("metadata 'frames' of \(method): entry \(i + 1) is not [key, mIoU, sequence]")
            }
            var score = FrameScore(key: key, meanIoU: try shard.fraction(items[1], "frame \(key)'s mIoU"))
            score.sequence = items.count > 2 ? items[2].string ?? "" : ""
            if let matrices {
                let size = k * (k + 1)
                let matrix = ConfusionMatrix(classes: k, counts: Array(matrices[(i * size)..<((i + 1) * size)]))
                guard matrix.totalFits else {
                    throw shard.bad("frames.\(method): counts of \(key) too large to add up")
                }
                score.confusion = matrix
            }
            scores.append(score)
        }
        return FrameScores(scores: scores)
    }

    public static func csvRows(_ report: Report) -> [CSVRow] {
        let results = report.results
        var values: [String: [Double]] = [:]
        for (m, result) in results.enumerated() {
            for frame in result.counts.frames {
                values[frame.key, default: Array(repeating: .nan, count: results.count)][m] = frame.meanIoU
            }
        }
        let referenceIndex = report.referenceIndex
        return values.keys.sorted().map { key in
            let row = values[key]!
            let deltas = report.others.map { other -> Double in
                guard let i = results.firstIndex(where: { $0.name == other.name }), let r = referenceIndex else {
                    return .nan
                }
                return row[i] - row[r]
            }
            return CSVRow(.frames, cells: ["frame", report.csvText(key)] + (row + deltas).map(report.csvNumber))
        }
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        let frames = result.counts.frames
        return [
            ("frames", .number(Double(frames.count))),
            ("per_frame_miou", .object(frames.map { ($0.key, Report.number($0.meanIoU)) })),
        ]
    }
}

extension MethodCounts {
    /// (frame key, mIoU of that frame alone), in dataset order.
    public var frames: [FrameScore] {
        get { self[FrameScores.self]?.scores ?? [] }
        set { self[FrameScores.self] = FrameScores(scores: newValue) }
    }
}
