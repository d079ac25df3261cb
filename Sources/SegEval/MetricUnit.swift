import SegFormats
import SegLabels

/// One figure `segscope eval` reports, in one place: its counts for one
/// method, how a frame adds to them, how two shards' counts merge, how they
/// are written to and read from a shard file, and its part of every report
/// (rules, summary rows, CSV rows, JSON entries, text sections). A new
/// metric is one type conforming to this and one line in `MetricRegistry.units`.
public protocol MetricUnit: Sendable, Equatable {
    /// The key of its counts in `MethodCounts` (stable: shards do not store it).
    static var name: String { get }
    /// Empty counts for one method, or nil when this evaluation does not
    /// compute the metric for it (e.g. flips for the reference itself).
    init?(_ setup: MetricSetup)
    /// Adds one frame's pixels (metrics counted per sequence leave it empty).
    mutating func add(_ frame: FrameInput)
    /// Adds another frame's or shard's counts; `MetricError.overflow` when a sum does not fit.
    /// (Not `merge`: some counts keep their older, unchecked `merge` for callers outside eval.)
    mutating func checkedMerge(_ other: Self) throws(MetricError)
    /// Writes one method's counts into a shard (under `method`).
    func write(method: String, to shard: inout ShardWriter)
    /// One method's counts from a shard, every value checked; nil when the shard holds none.
    static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> Self?

    /// How the figure is aggregated, one line each, under every table.
    static func rules(_ report: Report) -> [String]
    /// Rows under the per-class table: a label and each method's value.
    static func summaryRows(_ report: Report) -> [SummaryRow]
    /// CSV rows of this metric (its section decides where they go).
    static func csvRows(_ report: Report) -> [CSVRow]
    /// Entries of one method's object in the JSON report.
    static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)]
    /// Top-level JSON entries comparing methods with the reference.
    static func jsonComparison(_ report: Report) -> [(String, JSONValue)]
    /// Text printed after the main table (comparison sections first).
    static func textSection(_ report: Report, markdown: Bool) -> ReportSection?
}

extension MetricUnit {
    public mutating func add(_ frame: FrameInput) {}
    public static func rules(_ report: Report) -> [String] { [] }
    public static func summaryRows(_ report: Report) -> [SummaryRow] { [] }
    public static func csvRows(_ report: Report) -> [CSVRow] { [] }
    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] { [] }
    public static func jsonComparison(_ report: Report) -> [(String, JSONValue)] { [] }
    public static func textSection(_ report: Report, markdown: Bool) -> ReportSection? { nil }

    /// Merges counts held as an existential (both sides are this unit's, by the registry's key).
    func merging(_ other: any MetricUnit) throws(MetricError) -> any MetricUnit {
        guard let other = other as? Self else { return self }
        var copy = self
        try copy.checkedMerge(other)
        return copy
    }

    func isEqual(_ other: any MetricUnit) -> Bool { (other as? Self) == self }
}

/// Every metric, in report order (the order of summary rows, CSV rows, JSON
/// entries and rules within their sections).
public enum MetricRegistry {
    public static let units: [any MetricUnit.Type] = [
        ClassIoU.self, BandIoU.self, FrameScores.self, BoundaryIoUCounts.self, TemporalCounts.self,
        InstanceCounts.self, CategoryIoU.self, PixelFlips.self,
    ]
}

public enum MetricError: Error, Equatable, CustomStringConvertible {
    case overflow(String)

    public var description: String {
        switch self {
        case .overflow(let what): return "\(what): counts too large to add up (more than \(Int64.max))"
        }
    }
}

/// What a metric needs to know to size its counts.
public struct MetricSetup: Sendable {
    public var space: LabelSpace
    /// Whether this method is compared with a reference (flips).
    public var compared: Bool
    public var classes: Int { space.count }
    public var categories: Int { space.categories.count }

    public init(space: LabelSpace, compared: Bool) {
        self.space = space
        self.compared = compared
    }
}

/// One frame of one method, decoded, with what several metrics share
/// (the confusion kernel counts all pixels and the band in one pass).
public struct FrameInput {
    public let key: String
    public let sequence: String
    public let space: LabelSpace
    public let groundTruth: LabelMap
    public let prediction: LabelMap
    /// The reference's prediction of this frame, for a compared method that both have.
    public let reference: LabelMap?
    /// The boundary band (nil: no band metrics).
    public let bandMask: [Bool]?
    /// Instance ids, when the GT has them.
    public let instances: [UInt16]?
    /// This frame's confusion over all pixels and over the band.
    public let confusion: ConfusionMatrix
    public let bandConfusion: ConfusionMatrix
    public let boundaryRatio: Double?
    let timing: EvaluationTiming?

    func measure<T>(_ stage: EvaluationTiming.Stage, _ body: () throws -> T) rethrows -> T {
        try timing.map { try $0.measure(stage, body) } ?? body()
    }
}

/// A summary row: its label and each method's value; `lowerIsBetter` for the best mark.
public struct SummaryRow {
    public var label: String
    public var lowerIsBetter = false
    public var value: (MethodResult) -> Double

    public init(_ label: String, lowerIsBetter: Bool = false, _ value: @escaping (MethodResult) -> Double) {
        self.label = label
        self.lowerIsBetter = lowerIsBetter
        self.value = value
    }
}

/// A CSV row: `kind,name`, a cell per method, then a cell per compared method (Δ).
public struct CSVRow {
    /// Where the row goes: per-class IoU first, then the summary (from
    /// `summaryRows`), details, comparisons with the reference, per-frame rows.
    public enum Section: Int, Comparable, CaseIterable {
        case classes, detail, comparison, frames
        public static func < (a: Section, b: Section) -> Bool { a.rawValue < b.rawValue }
    }
    public var section: Section
    public var cells: [String]

    public init(_ section: Section, cells: [String]) {
        self.section = section
        self.cells = cells
    }
}

/// Text after the main table; comparisons (against the reference) come first.
public struct ReportSection {
    public var comparison: Bool
    public var text: String

    public init(comparison: Bool, text: String) {
        self.comparison = comparison
        self.text = text
    }
}

/// One method's counts: each metric's, keyed by its name.
public struct MethodCounts: Sendable, Equatable {
    var units: [String: any MetricUnit] = [:]

    public init(_ setup: MetricSetup) {
        for unit in MetricRegistry.units { if let counts = unit.init(setup) { units[unit.name] = counts } }
    }

    /// This unit's counts (nil when the evaluation does not compute it for this method).
    public subscript<U: MetricUnit>(_ unit: U.Type) -> U? {
        get { units[U.name] as? U }
        set { units[U.name] = newValue }
    }

    public mutating func add(_ frame: FrameInput) {
        for name in Array(units.keys) { units[name]!.add(frame) }
    }

    public mutating func merge(_ other: MethodCounts) throws(MetricError) {
        for (name, counts) in other.units {
            if let mine = units[name] { units[name] = try mine.merging(counts) } else { units[name] = counts }
        }
    }

    public static func == (a: MethodCounts, b: MethodCounts) -> Bool {
        a.units.count == b.units.count
            && a.units.allSatisfy { name, counts in b.units[name].map(counts.isEqual) ?? false }
    }
}

/// The metrics' view of a shard being written: tensors, and per-method
/// entries of JSON metadata objects (a key maps methods to values).
public struct ShardWriter {
    public var tensors = SafetensorsWriter()
    var perMethod: [String: [(String, JSONValue)]] = [:]
    var keyOrder: [String] = []

    public mutating func add(_ name: String, _ values: [Int64], shape: [Int]) {
        tensors.add(name, values, shape: shape)
    }

    /// A confusion matrix as tensor `name`: I64 [K, K+1].
    public mutating func add(_ name: String, _ matrix: ConfusionMatrix) {
        add(name, matrix.counts, shape: [matrix.classes, matrix.classes + 1])
    }

    /// Sets `key`'s entry for `method` (the metadata value is a JSON object over methods).
    public mutating func set(_ key: String, method: String, _ value: JSONValue) {
        if perMethod[key] == nil { keyOrder.append(key) }
        perMethod[key, default: []].append((method, value))
    }
}

/// The metrics' view of a shard being read: checked tensors and metadata.
public struct ShardReader {
    public let path: String
    let file: SafetensorsFile
    let tables: [String: JSONValue]

    init(path: String, file: SafetensorsFile, keys: [String]) throws {
        self.path = path
        self.file = file
        var tables: [String: JSONValue] = [:]
        for key in keys {
            guard let text = file.metadata[key] else { continue }
            guard let value = try? JSON.parse(text), value.object != nil else {
                throw EvaluationError.shard(path: path, problem: "metadata '\(key)' is not a JSON object")
            }
            tables[key] = value
        }
        self.tables = tables
    }

    public func bad(_ problem: String) -> EvaluationError { .shard(path: path, problem: problem) }

    public func has(_ name: String) -> Bool { file.tensor(name) != nil }

    /// A tensor of counts of exactly `shape`, each count >= 0; nil when absent.
    public func counts(_ name: String, shape: [Int]) throws -> [Int64]? {
        guard let tensor = file.tensor(name) else { return nil }
        guard tensor.shape == shape else {
            throw bad("tensor \(name) is \(tensor.shape) and not \(shape)")
        }
        let values = try file.int64s(name)
        guard values.count == shape.reduce(1, *) else { throw bad("tensor \(name) holds \(values.count) values") }
        if let negative = values.first(where: { $0 < 0 }) {
            throw bad("tensor \(name) holds a negative count (\(negative))")
        }
        return values
    }

    /// The confusion matrix stored as tensor `name` ([K, K+1] counts that add up without overflow).
    public func confusionMatrix(_ name: String, classes k: Int) throws -> ConfusionMatrix {
        guard let counts = try counts(name, shape: [k, k + 1]) else { throw bad("tensor \(name) missing") }
        let matrix = ConfusionMatrix(classes: k, counts: counts)
        guard matrix.totalFits else { throw bad("\(name): counts too large to add up") }
        return matrix
    }

    /// `method`'s entry of the JSON object stored under metadata `key`.
    public func entry(_ key: String, method: String) -> JSONValue? { tables[key]?[method] }

    /// A fraction written by `ShardWriter` (-1 stands for NaN); anything else is an error.
    public func fraction(_ value: JSONValue?, _ what: String) throws -> Double {
        guard let v = value?.number, v.isFinite, v == -1 || (v >= 0 && v <= 1) else {
            throw bad("\(what) is not a fraction in [0, 1]")
        }
        return v < 0 ? .nan : v
    }
}

/// Adds with a named error instead of a trap.
@inline(__always)
func checkedSum(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws(MetricError) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow { throw MetricError.overflow(what()) }
    return sum
}
