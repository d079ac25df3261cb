import SegDataset
import SegEval
import SegFormats
import SegLabels
import Synchronization

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

    /// Loads everything the viewer shows of `frame`, decoding its files in
    /// parallel. Errors are kept in the result (the viewer shows them)
    /// rather than thrown.
    public static func load(_ frame: FrameRecord, loader: FrameLoader, methods: [String], classes: Int) -> FrameData {
        var data = FrameData(key: frame.key)
        do {
            // The size every map is brought to: the GT's, else the frame's.
            let size: (Int, Int)?
            if let path = frame.groundTruth ?? frame.image {
                let info = try PNG.readInfo(path: path)
                size = (info.width, info.height)
            } else {
                size = nil
            }
            enum Part { case image(RGBImage?), labels(String?, FrameLoader.Labels?), confidence(String, ConfidenceMap?) }
            let jobs: [@Sendable () throws -> Part] = [
                { .image(try loader.image(frame)) },
                { .labels(nil, try loader.groundTruth(frame)) },
            ] + methods.map { method -> @Sendable () throws -> Part in { .labels(method, try loader.prediction(frame, method: method, size: size)) } }
              + methods.map { method -> @Sendable () throws -> Part in { .confidence(method, try loader.confidence(frame, method: method, size: size)) } }
            let results = Mutex<[Result<Part, Error>?]>(Array(repeating: nil, count: jobs.count))
            parallelFor(jobs.count) { i in
                let result = Result { try jobs[i]() }
                results.withLock { $0[i] = result }
            }
            for result in results.withLock({ $0 }) {
                switch try result!.get() {
                case .image(let image): data.image = image
                case .labels(nil, let labels):
                    data.groundTruth = labels?.map
                    data.notes += labels?.notes ?? []
                case .labels(let method?, let labels):
                    if let labels {
                        data.predictions[method] = labels.map
                        data.notes += labels.notes
                    }
                case .confidence(let method, let map): data.confidences[method] = map
                }
            }
            let gt = data.groundTruth
            let reference = gt ?? methods.lazy.compactMap({ data.predictions[$0] }).first
            let predictions = data.predictions
            let derived = Mutex<(distance: [UInt16]?, confusion: [String: ConfusionMatrix])>((nil, [:]))
            let names = Array(predictions.keys)
            parallelFor(names.count + 1) { i in
                if i == names.count {
                    let distance = reference.map { BoundaryBand.distance($0, cap: 255) }
                    derived.withLock { $0.distance = distance }
                } else if let gt {
                    var matrix = ConfusionMatrix(classes: classes)
                    matrix.add(groundTruth: gt, prediction: predictions[names[i]]!)
                    derived.withLock { $0.confusion[names[i]] = matrix }
                }
            }
            (data.boundaryDistance, data.confusion) = derived.withLock { ($0.distance, $0.confusion) }
        } catch {
            data.error = "\(error)"
        }
        return data
    }
}
