import SegFormats

/// What one training stage optimises (spec "Training"; paper section 3.4).
public enum TrainingStage: String, Sendable, CaseIterable {
    /// The baseline classifier on the backbone's features f[T].
    case classifier
    /// STF and a fresh classifier on g = STF(f[T-1], f[T], f[T+1]).
    case stf
    /// MAR (memory included) and a fresh classifier on MAR(x), where x is the
    /// fixed STF's output (or f[T] for MAR alone).
    case mar
}

/// One training example: the window's features channel-first [C, H*W]
/// (for the classifier and MAR stages only `current` is read, and for MAR it
/// is already the fixed STF's output) and full-resolution labels
/// [factor*H, factor*W] (trainIds, 255 ignored).
public struct TrainingSample: Sendable {
    public var previous: [Float], current: [Float], next: [Float]
    public var labels: [UInt8]
    public var height: Int, width: Int

    public init(previous: [Float], current: [Float], next: [Float], labels: [UInt8], height: Int, width: Int) {
        (self.previous, self.current, self.next, self.labels, self.height, self.width) = (
            previous, current, next, labels, height, width
        )
    }
}

/// The trainable part of a stage and its loss: parameters (release names and
/// shapes), forward to logits, and the gradient of the cross-entropy.
public struct TrainingModel: Sendable {
    /// What sits between the features and the classifier.
    enum Head: Sendable {
        case none
        case stf(STFGraph)
        case mar(MARGraph)
    }

    public let channels: Int, classes: Int
    public var parameters: Parameters
    /// Full-resolution labels are `upsampling` times the feature size.
    public let upsampling = featureStride
    let head: Head
    let classifier: ClassifierLayer

    public var stage: TrainingStage {
        switch head {
        case .none: return .classifier
        case .stf: return .stf
        case .mar: return .mar
        }
    }

    /// What one stage trains, with what it needs.
    public enum Stage: Sendable {
        case classifier
        case stf(STFShape)
        /// MAR's trainable memory starts from `keys` and `values` [N, C]
        /// (class-major rows; MemoryBank gives them); `width` is dh.
        case mar(keys: [Float], values: [Float], width: Int)
    }

    public init(_ stage: Stage, channels c: Int, classes k: Int, seed: UInt64) {
        channels = c
        classes = k
        var parameters = Parameters()
        switch stage {
        case .classifier:
            head = .none
        case .stf(let shape):
            head = .stf(STFGraph(shape: shape, parameters: &parameters, seed: seed))
        case .mar(let keys, let values, let width):
            head = .mar(
                MARGraph(
                    channels: c, width: width, keys: keys.map(Double.init), values: values.map(Double.init),
                    parameters: &parameters, seed: seed))
        }
        classifier = ClassifierLayer(prefix: "classifier", classes: k, channels: c, parameters: &parameters, seed: seed)
        self.parameters = parameters
    }

    /// Token-major float64 [H*W, C] from channel-first float32 [C, H*W].
    static func tokens(_ x: [Float], channels c: Int) -> [Double] {
        let n = x.count / c
        var out = [Double](repeating: 0, count: x.count)
        for ch in 0..<c { for i in 0..<n { out[i * c + ch] = Double(x[ch * n + i]) } }
        return out
    }

    enum Saved {
        case classifier
        case stf(STFGraph.Saved)
        case mar(MARGraph.Saved)
    }

    /// Logits [H*W, K] token-major, the classifier's input, and what backward needs.
    func forward(_ sample: TrainingSample, _ p: ReadBuffer) -> (logits: [Double], features: [Double], saved: Saved) {
        let n = sample.height * sample.width
        let current = TrainingModel.tokens(sample.current, channels: channels)
        let features: [Double]
        let saved: Saved
        switch head {
        case .none:
            (features, saved) = (current, .classifier)
        case .stf(let stf):
            let (g, s) = stf.forward(
                previous: TrainingModel.tokens(sample.previous, channels: channels), current: current,
                next: TrainingModel.tokens(sample.next, channels: channels), height: sample.height, width: sample.width,
                p)
            (features, saved) = (g, .stf(s))
        case .mar(let mar):
            let (r, s) = mar.forward(current, tokens: n, p)
            (features, saved) = (r, .mar(s))
        }
        return (classifier.linear.forward(features, tokens: n, p), features, saved)
    }

    /// Channel-first float32 logits [K, H*W] for evaluation.
    public func logits(_ sample: TrainingSample) -> [Float] {
        let tokenLogits = parameters.values.withUnsafeBufferPointer { forward(sample, $0.baseAddress!).logits }
        let n = sample.height * sample.width
        var out = [Float](repeating: 0, count: classes * n)
        for i in 0..<n { for j in 0..<classes { out[j * n + i] = Float(tokenLogits[i * classes + j]) } }
        return out
    }

    /// The summed cross-entropy over the sample's labelled pixels and their
    /// count; adds `scale` times its gradient into `g` (parameter layout).
    func lossAndGradient(_ sample: TrainingSample, _ p: ReadBuffer, _ g: Buffer?, scale: Double) -> (
        loss: Double, pixels: Int
    ) {
        let n = sample.height * sample.width
        let (logits, features, saved) = forward(sample, p)
        var dLogits = [Double](repeating: 0, count: g == nil ? 0 : logits.count)
        let result = logits.withUnsafeBufferPointer { lb in
            dLogits.withUnsafeMutableBufferPointer { db in
                upsampledCrossEntropy(
                    logits: lb.baseAddress!, dLogits: g == nil ? nil : db.baseAddress!, scale: scale,
                    labels: sample.labels,
                    classes: classes, height: sample.height, width: sample.width, factor: upsampling)
            }
        }
        guard let g else { return result }
        let dFeatures = classifier.linear.backward(
            dLogits, x: features, tokens: n, p, g, inputGradient: stage != .classifier)
        switch (head, saved) {
        case (.stf(let stf), .stf(let s)): stf.backward(dFeatures, s, p, g)
        case (.mar(let mar), .mar(let s)): mar.backward(dFeatures, s, tokens: n, p, g)
        default: break
        }
        return result
    }
}
