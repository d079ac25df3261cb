import SegFormats
import SegLabels

/// Pixel flips of a compared method against the reference (fixed, broken,
/// changed-but-wrong), over all pixels and in the band, counted on the
/// frames both methods have. Shard: tensor `flips.<method>` I64 [2, 3].
public struct PixelFlips: MetricUnit {
    public static let name = "flips"
    public var all = FlipCounts()
    public var band = FlipCounts()

    public init?(_ setup: MetricSetup) {
        guard setup.compared else { return nil }
    }

    init(all: FlipCounts, band: FlipCounts) { (self.all, self.band) = (all, band) }

    public mutating func add(_ frame: FrameInput) {
        guard let reference = frame.reference else { return }
        frame.measure(.flips) {
            all.add(groundTruth: frame.groundTruth, reference: reference, method: frame.prediction)
            if let mask = frame.bandMask {
                band.add(groundTruth: frame.groundTruth, reference: reference, method: frame.prediction, mask: mask)
            }
        }
    }

    public mutating func checkedMerge(_ other: PixelFlips) throws(MetricError) {
        func add(_ a: inout FlipCounts, _ b: FlipCounts) throws(MetricError) {
            a.fixed = try checkedSum(a.fixed, b.fixed, "flips")
            a.broken = try checkedSum(a.broken, b.broken, "flips")
            a.changedWrong = try checkedSum(a.changedWrong, b.changedWrong, "flips")
        }
        try add(&all, other.all)
        try add(&band, other.band)
    }

    public func write(method: String, to shard: inout ShardWriter) {
        shard.add(
            "flips.\(method)", [all.fixed, all.broken, all.changedWrong, band.fixed, band.broken, band.changedWrong],
            shape: [2, 3])
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> PixelFlips? {
        guard let f = try shard.counts("flips.\(method)", shape: [2, 3]) else { return nil }
        return PixelFlips(
            all: FlipCounts(fixed: f[0], broken: f[1], changedWrong: f[2]),
            band: FlipCounts(fixed: f[3], broken: f[4], changedWrong: f[5]))
    }

    public static func csvRows(_ report: Report) -> [CSVRow] {
        guard report.evaluation.reference != nil else { return [] }
        let kinds: [(String, (FlipCounts) -> Int64)] = [
            ("fixed", \.fixed), ("broken", \.broken), ("changed_wrong", \.changedWrong),
        ]
        var rows: [CSVRow] = []
        for (inBand, name) in [(false, ""), (true, "band ")] {
            for (label, pick) in kinds {
                let cells = report.results.map { result in
                    result.counts[PixelFlips.self].map { "\(pick(inBand ? $0.band : $0.all))" } ?? ""
                }
                rows.append(
                    CSVRow(.comparison, cells: ["flips", name + label] + cells + report.others.map { _ in "" }))
            }
        }
        return rows
    }

    public static func jsonComparison(_ report: Report) -> [(String, JSONValue)] {
        func counts(_ f: FlipCounts) -> JSONValue {
            .object([
                ("fixed", .number(Double(f.fixed))), ("broken", .number(Double(f.broken))),
                ("changed_wrong", .number(Double(f.changedWrong))),
            ])
        }
        let flips: [(String, JSONValue)] = report.others.compactMap { result in
            result.counts[PixelFlips.self].map {
                (result.name, .object([("all", counts($0.all)), ("band", counts($0.band))]))
            }
        }
        return [("flips", .object(flips))]
    }

    public static func textSection(_ report: Report, markdown: Bool) -> ReportSection? {
        guard let reference = report.evaluation.reference.map(report.text), !report.others.isEmpty else { return nil }
        var out =
            markdown
            ? "\n| flips vs \(reference) | fixed | broken | changed-but-wrong | fixed (band) | broken (band) "
                + "| changed (band) |\n"
                + "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            : "\nPixel flips vs \(reference) (fixed: \(reference) wrong, method right; broken: the reverse)\n"
        for result in report.others {
            guard let flips = result.counts[PixelFlips.self] else { continue }
            let (f, b, method) = (flips.all, flips.band, report.text(result.name))
            let cells = [
                method, "\(f.fixed)", "\(f.broken)", "\(f.changedWrong)", "\(b.fixed)", "\(b.broken)",
                "\(b.changedWrong)",
            ]
            out +=
                markdown
                ? "| " + cells.joined(separator: " | ") + " |\n"
                : "  \(method): fixed \(f.fixed), broken \(f.broken), changed-but-wrong \(f.changedWrong); "
                    + "in the \(report.evaluation.band)px band: "
                    + "fixed \(b.fixed), broken \(b.broken), changed-but-wrong \(b.changedWrong)\n"
        }
        return ReportSection(comparison: true, text: out)
    }
}

extension MethodCounts {
    /// Against the reference method (nil for the reference itself).
    public var flips: FlipCounts? { self[PixelFlips.self]?.all }
    public var bandFlips: FlipCounts? { self[PixelFlips.self]?.band }
}
