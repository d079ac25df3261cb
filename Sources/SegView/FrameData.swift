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
    /// Cityscapes instance-level counts of this frame per method (when the GT has instance ids).
    public var instances: [String: InstanceCounts] = [:]
    /// Class ids that occur in the ground truth or a prediction (the class legend's entries).
    public var presentClasses: [UInt8] = []
    public var notes: [String] = []
    /// Files that could not be read, by what they hold; only that part's
    /// pane shows the error, everything else is drawn.
    public var errors: [Part: String] = [:]

    /// What a frame's files hold.
    public enum Part: Hashable, Sendable {
        case image, groundTruth
        case prediction(String)
        case confidence(String)
    }

    public var width: Int { groundTruth?.width ?? image?.width ?? predictions.values.first?.width ?? 0 }
    public var height: Int { groundTruth?.height ?? image?.height ?? predictions.values.first?.height ?? 0 }

    public init(key: String) { self.key = key }

    /// Why the maps cannot be drawn together: they are brought to the ground
    /// truth's size when loaded; without a readable ground truth they may differ.
    public var sizeProblem: String? {
        let w = width
        let h = height
        let sizes =
            [image.map { ($0.width, $0.height) }, groundTruth.map { ($0.width, $0.height) }]
            + predictions.values.map { ($0.width, $0.height) } + confidences.values.map { ($0.width, $0.height) }
        guard sizes.contains(where: { $0 != nil && ($0!.0 != w || $0!.1 != h) }) else { return nil }
        return "this frame's files differ in size (\(w)x\(h) and others) and no ground truth sets the size"
    }

    /// Approximate memory held, for the cache's budget.
    public var bytes: Int {
        (image?.rgb.count ?? 0) + (groundTruth?.ids.count ?? 0) + predictions.values.reduce(0) { $0 + $1.ids.count }
            + confidences.values.reduce(0) { $0 + 4 * $1.values.count } + 2 * (boundaryDistance?.count ?? 0)
    }

    /// Loads everything the viewer shows of `frame`, decoding its files in
    /// parallel. A file that cannot be read is kept as that part's error
    /// (the viewer shows it in its pane) rather than thrown.
    public static func load(_ frame: FrameRecord, loader: FrameLoader, methods: [String], classes: Int) -> FrameData {
        var data = FrameData(key: frame.key)
        // The size every map is brought to: the GT's, else the frame's.
        let size: (Int, Int)? = [frame.groundTruth, frame.image].lazy.compactMap { path in
            path.flatMap { try? ImageFile.size(path: $0) }
        }.first
        let parts: [Part] = [.image, .groundTruth] + methods.map { .prediction($0) } + methods.map { .confidence($0) }
        let results = Mutex<[Result<Loaded, Error>?]>(Array(repeating: nil, count: parts.count))
        parallelFor(parts.count) { i in
            let result = Result { try read(parts[i], of: frame, loader: loader, size: size) }
            results.withLock { $0[i] = result }
        }
        for (i, result) in results.withLock({ $0 }).enumerated() {
            let part = parts[i]
            switch result! {
            case .failure(let error): data.errors[part] = "\(error)"
            case .success(.image(let image)): data.image = image
            case .success(.labels(let labels)):
                data.notes += labels?.notes ?? []
                if case .prediction(let method) = part {
                    data.predictions[method] = labels?.map
                } else {
                    data.groundTruth = labels?.map
                }
            case .success(.confidence(let map)):
                if case .confidence(let method) = part { data.confidences[method] = map }
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
            } else if let gt, predictions[names[i]]!.width == gt.width, predictions[names[i]]!.height == gt.height {
                var matrix = ConfusionMatrix(classes: classes)
                matrix.add(groundTruth: gt, prediction: predictions[names[i]]!)
                derived.withLock { $0.confusion[names[i]] = matrix }
            }
        }
        (data.boundaryDistance, data.confusion) = derived.withLock { ($0.distance, $0.confusion) }
        if let gt, frame.instances != nil {
            do {
                if let ids = try loader.instances(frame), ids.count == gt.ids.count {
                    let space = loader.dataset.space
                    for (method, prediction) in predictions where prediction.ids.count == ids.count {
                        var counts = InstanceCounts(classes: classes, categories: space.categories.count)
                        InstanceIoU.add(instances: ids, prediction: prediction, space: space, into: &counts)
                        data.instances[method] = counts
                    }
                }
            } catch {
                data.notes.append("\(error)")
            }
        }
        var seen = [Bool](repeating: false, count: 256)
        for map in [gt].compactMap({ $0 }) + Array(predictions.values) {
            map.ids.withUnsafeBufferPointer { ids in for v in ids { seen[Int(v)] = true } }
        }
        data.presentClasses = (0..<256).filter { seen[$0] }.map(UInt8.init)
        return data
    }

    enum Loaded {
        case image(RGBImage?)
        case labels(FrameLoader.Labels?)
        case confidence(ConfidenceMap?)
    }

    static func read(_ part: Part, of frame: FrameRecord, loader: FrameLoader, size: (Int, Int)?) throws -> Loaded {
        switch part {
        case .image: return .image(try loader.image(frame))
        case .groundTruth: return .labels(try loader.groundTruth(frame))
        case .prediction(let method): return .labels(try loader.prediction(frame, method: method, size: size))
        case .confidence(let method): return .confidence(try loader.confidence(frame, method: method, size: size))
        }
    }
}
