import SegEngine
import SegEval
import SegFormats
import SegLabels

/// Where MAR's memory helps and where it hurts, and through which class: among the boundary pixels of
/// the ground truth (eval's band: within `bandWidth` px, Chebyshev, of a GT class boundary), those MAR
/// fixed (the reference stage wrong, MAR right) and those it broke (reference right, MAR wrong), with
/// MAR's attention mass on the memory rows of the GT class and on those of the competing class (fixed:
/// the reference's wrong class; broken: MAR's wrong class), per GT class.
///
/// A pixel's masses are those of its stride-8 token (Y/8, X/8), the token `explain --pixel Y,X`
/// reports: MAR attends per token, and its masses are not interpolated as the logits are. Predictions
/// are the full-resolution ones infer writes (logits upsampled bilinearly). Ignore-label pixels and GT
/// values that are no class of the model are excluded.
///
/// Counts are integers and masses are summed in fixed point (units of 2^-28), so `merge` is exact and
/// order-free: a sequence's or the dataset's table is the merge of its frames' tables.
public struct MemoryAttribution: Sendable, Equatable {
    /// Units of summed mass per unit of attention mass.
    static let massScale = Double(1 << 28)

    public let classes: Int
    public let bandWidth: Int
    /// The stage MAR is compared against (the one it refines unless another was asked for).
    public let reference: Stage
    /// Frames counted, and frames skipped for having no ground truth (`countSkippedFrame`).
    public private(set) var frames = 0
    public private(set) var framesWithoutGroundTruth = 0
    /// Frames of the scope with ground truth but no features (nor an image for the backbone): skipped, counted.
    public private(set) var framesWithoutFeatures = 0
    /// Per GT class: pixels, and summed masses (fixed point) on the GT class and on the competing class.
    var fixed: Tally
    var broken: Tally

    struct Tally: Sendable, Equatable {
        var pixels: [Int64], truthMass: [UInt64], wrongMass: [UInt64]

        init(classes: Int) {
            pixels = [Int64](repeating: 0, count: classes)
            (truthMass, wrongMass) = ([UInt64](repeating: 0, count: classes), [UInt64](repeating: 0, count: classes))
        }

        mutating func add(_ k: Int, truth: Float, wrong: Float) {
            pixels[k] += 1
            truthMass[k] += UInt64((Double(truth) * massScale).rounded())
            wrongMass[k] += UInt64((Double(wrong) * massScale).rounded())
        }

        mutating func merge(_ other: Tally) throws(MemoryAttributionError) {
            for k in pixels.indices {
                let (t, o1) = truthMass[k].addingReportingOverflow(other.truthMass[k])
                let (w, o2) = wrongMass[k].addingReportingOverflow(other.wrongMass[k])
                let (p, o3) = pixels[k].addingReportingOverflow(other.pixels[k])
                guard !o1, !o2, !o3 else { throw .overflow }
                (truthMass[k], wrongMass[k], pixels[k]) = (t, w, p)
            }
        }

        func row(_ indices: [Int]) -> Row.Part {
            let count = indices.reduce(Int64(0)) { $0 + pixels[$1] }
            // Summed in Double: the fixed-point sums of several classes may exceed UInt64 together.
            let mean = { (sums: [UInt64]) -> Double? in
                count == 0 ? nil : indices.reduce(0.0) { $0 + Double(sums[$1]) } / massScale / Double(count)
            }
            return Row.Part(pixels: count, truthMass: mean(truthMass), wrongMass: mean(wrongMass))
        }
    }

    /// An empty table (no frame counted yet).
    public init(classes: Int, bandWidth: Int, reference: Stage) {
        (self.classes, self.bandWidth, self.reference) = (classes, bandWidth, reference)
        (fixed, broken) = (Tally(classes: classes), Tally(classes: classes))
    }

    /// One row of the table: a GT class, or the total over all classes (`classIndex` nil).
    public struct Row: Sendable, Equatable {
        public struct Part: Sendable, Equatable {
            public let pixels: Int64
            /// Mean MAR attention mass on the GT class's memory rows, and on the competing class's
            /// (nil without pixels).
            public let truthMass: Double?, wrongMass: Double?
        }
        public let classIndex: Int?
        public let fixed: Part, broken: Part
    }

    /// One row per class that has fixed or broken pixels, in class order, then the total row.
    public var rows: [Row] {
        let used = (0..<classes).filter { fixed.pixels[$0] > 0 || broken.pixels[$0] > 0 }
        return used.map { Row(classIndex: $0, fixed: fixed.row([$0]), broken: broken.row([$0])) }
            + [Row(classIndex: nil, fixed: fixed.row(Array(0..<classes)), broken: broken.row(Array(0..<classes)))]
    }

    public var total: Row { rows.last! }

    /// Adds another table of the same classes, band width and reference (e.g. another frame's).
    public mutating func merge(_ other: MemoryAttribution) throws(MemoryAttributionError) {
        guard other.classes == classes, other.bandWidth == bandWidth, other.reference == reference else {
            throw .mismatch(
                "\(other.classes) classes, band \(other.bandWidth) px, reference \(other.reference.rawValue) "
                    + "against \(classes) classes, band \(bandWidth) px, reference \(reference.rawValue)")
        }
        var (f, b) = (fixed, broken)
        try f.merge(other.fixed)
        try b.merge(other.broken)
        (fixed, broken) = (f, b)
        frames += other.frames
        framesWithoutGroundTruth += other.framesWithoutGroundTruth
        framesWithoutFeatures += other.framesWithoutFeatures
    }

    /// Records a frame of the scope that has no ground truth (named in the table's header, not counted).
    public mutating func countSkippedFrame() { framesWithoutGroundTruth += 1 }

    /// Records a frame of the scope whose window has no features for it (named in the header, not counted).
    public mutating func countFrameWithoutFeatures() { framesWithoutFeatures += 1 }

    /// The stage MAR is compared against by default: the one it refines.
    public static func defaultReference(_ model: Model) -> Stage { model.stf != nil ? .stf : .baseline }

    /// One frame's table: runs the model on its window's features (T-1, T, T+1) and attributes its boundary pixels.
    /// `groundTruth` is the frame's, `featureStride` times the features; `input` names the frame in errors.
    public static func frame(
        model: Model, previous: FeatureMap, current c: FeatureMap, next: FeatureMap, groundTruth: LabelMap,
        bandWidth: Int = 3, reference: Stage? = nil, ignoreIndex: UInt8 = LabelSpace.ignore, input: String = "features"
    ) throws -> MemoryAttribution {
        let reference = try checkedReference(model, reference)
        try checkSize(groundTruth, c, input: input)
        if let odd = FeatureMap.oddOneOut([previous, c, next], channels: model.channels) {
            throw RunError(
                "\(input): the window's features \([previous, c, next].map(\.shapeText).joined(separator: ", ")) "
                    + "do not agree (frame \(["T-1", "T", "T+1"][odd]); the model has \(model.channels) channels)")
        }
        let outputs = try model.forward(
            previous: previous.values, current: c.values, next: next.values, height: c.height, width: c.width,
            input: input)
        return try frame(
            model: model, outputs: outputs, current: c, groundTruth: groundTruth, bandWidth: bandWidth,
            reference: reference, ignoreIndex: ignoreIndex, input: input)
    }

    /// The same from a forward pass already made (`outputs` of `model.forward` on the frame's window):
    /// for callers that keep them, such as the viewer.
    public static func frame(
        model: Model, outputs: Model.Outputs, current: FeatureMap, groundTruth: LabelMap, bandWidth: Int = 3,
        reference: Stage? = nil, ignoreIndex: UInt8 = LabelSpace.ignore, input: String = "features"
    ) throws -> MemoryAttribution {
        let reference = try checkedReference(model, reference)
        try checkSize(groundTruth, current, input: input)
        guard let marLogits = outputs.marLogits, let referenceLogits = outputs.logits(reference) else {
            let missing = outputs.marLogits == nil ? "MAR" : reference.rawValue
            throw RunError("\(input): the outputs have no \(missing) logits")
        }
        let (h, w, k) = (current.height, current.width, model.classes)
        let masses = try model.memoryClassMasses(
            marInput: outputs.stf ?? current.values, height: h, width: w, input: input)
        let predict = { (logits: [Float]) in
            upsampledPrediction(logits: logits, classes: k, height: h, width: w, factor: featureStride).labels
        }
        let (before, after) = (predict(referenceLogits), predict(marLogits))
        let band = BoundaryBand.band(groundTruth, width: bandWidth)
        var table = MemoryAttribution(classes: k, bandWidth: bandWidth, reference: reference)
        table.frames = 1
        let fullWidth = groundTruth.width
        for (i, truth) in groundTruth.ids.enumerated() where band[i] && truth != ignoreIndex && Int(truth) < k {
            let (r, m) = (before[i], after[i])
            guard (r == truth) != (m == truth) else { continue }
            let token = (i / fullWidth / featureStride) * w + (i % fullWidth) / featureStride
            let competitor = Int(r == truth ? m : r)
            let (truthMass, wrongMass) = (masses[token * k + Int(truth)], masses[token * k + competitor])
            if r == truth {
                table.broken.add(Int(truth), truth: truthMass, wrong: wrongMass)
            } else {
                table.fixed.add(Int(truth), truth: truthMass, wrong: wrongMass)
            }
        }
        return table
    }

    static func checkedReference(_ model: Model, _ reference: Stage?) throws -> Stage {
        guard model.mar != nil else { throw MemoryClassMassError.noMAR(path: model.path) }
        let stage = reference ?? defaultReference(model)
        guard stage != .mar, model.stages.contains(stage) else {
            throw RunError(
                "reference \(stage.rawValue): MAR is compared against a stage before it that \(model.path) has "
                    + "(\(model.stages.filter { $0 != .mar }.map(\.rawValue).joined(separator: ", ")))")
        }
        return stage
    }

    static func checkSize(_ groundTruth: LabelMap, _ features: FeatureMap, input: String) throws {
        guard groundTruth.width == featureStride * features.width, groundTruth.height == featureStride * features.height
        else {
            throw RunError(
                "\(input): ground truth \(groundTruth.width)x\(groundTruth.height) is not \(featureStride)x the "
                    + "features (\(features.width)x\(features.height))")
        }
    }
}

public enum MemoryAttributionError: Error, CustomStringConvertible, Equatable {
    case mismatch(String)
    case overflow

    public var description: String {
        switch self {
        case .mismatch(let what): return "cannot merge fixed/broken tables of \(what)"
        case .overflow: return "fixed/broken table: more pixels than its sums can hold (about 6.9e10 per class)"
        }
    }
}
