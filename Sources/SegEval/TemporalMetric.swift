import SegFormats
import SegLabels

/// Flicker and video consistency as one unit. Counted per sequence (a
/// second pass, `Temporal.evaluate`), so it adds nothing per frame. Shard:
/// tensor `flicker.<method>` I64 [2] (changed pixels, pixels of adjacent-frame
/// pairs) and metadata `temporal` (method -> {"pairs": [[key, fraction]...],
/// "vc": {"n": [[video, vspw, strict, first key]...]}}; NaN written as -1).
extension TemporalCounts: MetricUnit {
    public static let name = "temporal"
    /// Longest VC window a shard may name (a video of more frames is not one).
    static let longestWindow = 1_000_000

    public init?(_ setup: MetricSetup) { self.init() }

    public mutating func checkedMerge(_ other: TemporalCounts) throws(MetricError) {
        changed = try checkedSum(changed, other.changed, "flicker")
        pixels = try checkedSum(pixels, other.pixels, "flicker")
        pairs += other.pairs
        for (n, list) in other.windows { windows[n, default: []] += list }
    }

    public func write(method: String, to shard: inout ShardWriter) {
        func number(_ v: Double) -> JSONValue { .number(v.isNaN ? -1 : v) }
        shard.add("flicker.\(method)", [changed, pixels], shape: [2])
        shard.set(
            "temporal", method: method,
            .object([
                ("pairs", .array(pairs.map { .array([.string($0.key), number($0.fraction)]) })),
                (
                    "vc",
                    .object(
                        windows.keys.sorted().map { n in
                            (
                                "\(n)",
                                .array(
                                    windows[n]!.map {
                                        .array([
                                            .string($0.video), number($0.vspw), number($0.strict), .string($0.start),
                                        ])
                                    })
                            )
                        })
                ),
            ]))
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> TemporalCounts? {
        var c = TemporalCounts()
        if let f = try shard.counts("flicker.\(method)", shape: [2]) {
            guard f[0] <= f[1] else { throw shard.bad("flicker.\(method): more changed pixels than pixels") }
            (c.changed, c.pixels) = (f[0], f[1])
        }
        let table = shard.entry("temporal", method: method)
        for (i, pair) in (table?["pairs"]?.array ?? []).enumerated() {
            guard let items = pair.array, items.count == 2, let key = items[0].string else {
                throw shard.bad("temporal pairs of \(method): entry \(i + 1) is not [key, fraction]")
            }
            c.pairs.append(FlickerPair(key: key, fraction: try shard.fraction(items[1], "flicker of \(key)")))
        }
        for (n, list) in table?["vc"]?.object ?? [] {
            guard let length = Int(n), (2...longestWindow).contains(length) else {
                throw shard.bad("temporal vc key '\(n)' is not a window length in 2...\(longestWindow)")
            }
            c.windows[length] = try (list.array ?? []).map { entry in
                guard let items = entry.array, items.count == 4, let video = items[0].string,
                    let start = items[3].string
                else {
                    throw shard.bad("temporal vc \(n) of \(method): an entry is not [video, vspw, strict, first key]")
                }
                return VCWindow(
                    video: video, start: start, vspw: try shard.fraction(items[1], "VC of \(video)"),
                    strict: try shard.fraction(items[2], "strict VC of \(video)"))
            }
        }
        return c
    }

    static func hasFlicker(_ report: Report) -> Bool { report.results.contains { $0.counts.temporal.pixels > 0 } }

    /// Window lengths some method has VC windows for.
    static func vcLengths(_ report: Report) -> [Int] {
        report.evaluation.vcLengths.filter { n in
            report.results.contains { !($0.counts.temporal.windows[n] ?? []).isEmpty }
        }
    }

    public static func rules(_ report: Report) -> [String] {
        var lines: [String] = []
        if hasFlicker(report) {
            lines.append(
                "flicker: pixels whose predicted class changes between adjacent frames of a sequence / all pixels of "
                    + "those pairs (pooled); per pair, the flicker of (t, t+1) is attached to frame t")
        }
        if !vcLengths(report).isEmpty {
            lines.append(
                "mVC n: VSPW's VC_perclip, mean over all windows of all videos (videos of <= n frames skipped); "
                    + "strict: the prediction must also equal the GT, void left out")
        }
        return lines
    }

    public static func summaryRows(_ report: Report) -> [SummaryRow] {
        var rows: [SummaryRow] = []
        if hasFlicker(report) { rows.append(SummaryRow("flicker", lowerIsBetter: true) { $0.counts.temporal.flicker }) }
        for n in vcLengths(report) {
            rows.append(SummaryRow("mVC\(n)") { $0.counts.temporal.meanVC(n, strict: false) })
            rows.append(SummaryRow("mVC\(n) strict") { $0.counts.temporal.meanVC(n, strict: true) })
        }
        return rows
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        let number = Report.number
        let t = result.counts.temporal
        var entries: [(String, JSONValue)] = []
        if t.pixels > 0 {
            entries.append(
                (
                    "flicker",
                    .object([
                        ("overall", number(t.flicker)), ("pairs", .number(Double(t.pairs.count))),
                        ("per_pair", .object(t.pairs.map { ($0.key, number($0.fraction)) })),
                    ])
                ))
        }
        let lengths = vcLengths(report)
        if !lengths.isEmpty {
            entries.append(
                (
                    "vc",
                    .object(
                        lengths.map { n in
                            let windows = t.windows[n] ?? []
                            var videos: [(String, JSONValue)] = []
                            for video in Array(Set(windows.map(\.video))).sorted() {
                                let mine = windows.filter { $0.video == video }
                                videos.append(
                                    (
                                        video,
                                        .object([
                                            ("vspw", number(Metrics.mean(mine.map(\.vspw)))),
                                            ("strict", number(Metrics.mean(mine.map(\.strict)))),
                                        ])
                                    ))
                            }
                            return (
                                "\(n)",
                                .object([
                                    ("vspw", number(t.meanVC(n, strict: false))),
                                    ("strict", number(t.meanVC(n, strict: true))),
                                    ("windows", .number(Double(windows.count))), ("videos", .object(videos)),
                                ])
                            )
                        })
                ))
        }
        return entries
    }
}

extension MethodCounts {
    /// Flicker and video consistency.
    public var temporal: TemporalCounts {
        get { self[TemporalCounts.self] ?? TemporalCounts() }
        set { self[TemporalCounts.self] = newValue }
    }
}
