import SegDataset
import SegEval
import SegFormats
import SegLabels

/// A frame's decoded content and what the viewer derives from it once.
public struct FrameData: Sendable {
    public let key: String
    public var image: RGBImage?
    public var groundTruth: LabelMap?
    public var predictions: [String: LabelMap] = [:]
    public var confidences: [String: ConfidenceMap] = [:]
    /// Per-method confusion of this frame (only with ground truth).
    public var confusion: [String: ConfusionMatrix] = [:]
    /// Chebyshev distance to the nearest class boundary of the ground truth
    /// (or of the first prediction when there is none), capped at 255.
    public var boundaryDistance: [UInt16]?
    public var notes: [String] = []
    /// A load error, shown instead of the frame.
    public var error: String?

    public var width: Int { groundTruth?.width ?? image?.width ?? predictions.values.first?.width ?? 0 }
    public var height: Int { groundTruth?.height ?? image?.height ?? predictions.values.first?.height ?? 0 }

    public init(key: String) { self.key = key }

    /// Approximate memory held, for the cache's budget.
    public var bytes: Int {
        (image?.rgb.count ?? 0) + (groundTruth?.ids.count ?? 0) + predictions.values.reduce(0) { $0 + $1.ids.count }
            + confidences.values.reduce(0) { $0 + 4 * $1.values.count } + 2 * (boundaryDistance?.count ?? 0)
    }

    /// Loads everything the viewer shows of `frame`. Errors are kept in the
    /// result (the viewer shows them) rather than thrown.
    public static func load(_ frame: FrameRecord, loader: FrameLoader, methods: [String], classes: Int) -> FrameData {
        var data = FrameData(key: frame.key)
        do {
            data.image = try loader.image(frame)
            if let gt = try loader.groundTruth(frame) {
                data.groundTruth = gt.map
                data.notes += gt.notes
            }
            let size = data.groundTruth.map { ($0.width, $0.height) } ?? data.image.map { ($0.width, $0.height) }
            for method in methods {
                if let labels = try loader.prediction(frame, method: method, size: size) {
                    data.predictions[method] = labels.map
                    data.notes += labels.notes
                }
                if let confidence = try loader.confidence(frame, method: method, size: size) {
                    data.confidences[method] = confidence
                }
            }
            if let gt = data.groundTruth {
                for (method, prediction) in data.predictions {
                    var matrix = ConfusionMatrix(classes: classes)
                    matrix.add(groundTruth: gt, prediction: prediction)
                    data.confusion[method] = matrix
                }
            }
            if let reference = data.groundTruth ?? methods.lazy.compactMap({ data.predictions[$0] }).first {
                data.boundaryDistance = BoundaryBand.distance(reference, cap: 255)
            }
        } catch {
            data.error = "\(error)"
        }
        return data
    }
}
