import SegFormats

/// Backbone-like features at stride 8 made from the ground truth, so that
/// STF and MAR have real work to do (see man segscope, SYNTHETIC FEATURES):
/// 1. every class has an anchor vector;
/// 2. a feature mixes the anchors of the classes in its receptive field
///    (weighted by distance), and near a boundary between classes a and b a
///    pair-specific nonlinear term bends the mixture back and forth along
///    (A_b - A_a) and along a pair direction, so confusable pairs are not
///    linearly separable there;
/// 3. each frame has transient corruptions (glare, blur, noise occluders) at
///    places that move from frame to frame, so T-1 and T+1 hold what T lost;
/// 4. every value gets independent noise.
public struct FeatureModel: Sendable {
    public struct Knobs: Sendable, Equatable {
        /// Receptive field radius in full-resolution pixels.
        public var receptiveRadius = 12
        /// Standard deviation of the per-value noise (anchors have unit-scale values).
        public var noise: Float = 0.45
        /// Strength of the boundary distortion for confusable pairs and for all other pairs.
        public var confusableDistortion: Float = 1.1
        public var otherDistortion: Float = 0.3
        /// Corrupted patches per 1000 feature cells, and their radius range in cells.
        public var corruptionsPerKiloCell: Float = 2.5
        public var corruptionRadius: ClosedRange<Float> = 2...5
        public init() {}
    }

    /// Pairs that methods confuse most (Cityscapes trainIds); their boundaries get the strong distortion.
    public static let confusablePairs: [(Int, Int)] = [(2, 3), (14, 15), (8, 9), (11, 12), (3, 4), (13, 14)]

    public let channels: Int
    public let classes: Int
    public let anchors: [[Float]]
    public let knobs: Knobs
    let seed: UInt64
    let glare: [Float]
    /// Pair-specific bend direction, indexed [a * classes + b].
    let pairDirections: [[Float]]
    let pairStrength: [Float]

    /// `backboneSeed` fixes what a real backbone fixes for every split (glare
    /// response, boundary bend directions); `seed` drives what differs per
    /// dataset (noise, corruptions).
    public init(
        channels: Int, classes: Int, anchors: [[Float]], seed: UInt64, backboneSeed: UInt64, knobs: Knobs = Knobs()
    ) {
        precondition(anchors.count == classes && anchors.allSatisfy { $0.count == channels })
        self.channels = channels
        self.classes = classes
        self.anchors = anchors
        self.knobs = knobs
        self.seed = seed
        var rng = SplitMix64(seed: Deterministic.hash(Int(truncatingIfNeeded: backboneSeed), 0x61a7e))
        glare = (0..<channels).map { _ in rng.normal() * 1.3 + 0.8 }
        var directions: [[Float]] = []
        var strength: [Float] = []
        for a in 0..<classes {
            for b in 0..<classes {
                var pair = SplitMix64(
                    seed: Deterministic.hash(Int(truncatingIfNeeded: backboneSeed), min(a, b), max(a, b)))
                directions.append((0..<channels).map { _ in pair.normal() })
                let confusable = FeatureModel.confusablePairs.contains {
                    ($0.0 == a && $0.1 == b) || ($0.0 == b && $0.1 == a)
                }
                strength.append(a == b ? 0 : confusable ? knobs.confusableDistortion : knobs.otherDistortion)
            }
        }
        pairDirections = directions
        pairStrength = strength
    }

    /// Deterministic anchors with unit-variance values (the scale of the real prototypes).
    public static func randomAnchors(classes: Int, channels: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: Deterministic.hash(Int(truncatingIfNeeded: seed), 0xa11c))
        return (0..<classes).map { _ in (0..<channels).map { _ in rng.normal() } }
    }

    /// Features [channels, height/featureStride, width/featureStride] (channel-first, as the engine reads them).
    /// `cancelled` is polled between bands of rows and throws `SyntheticDataset.Cancelled`.
    public func features(
        labels: [UInt8], width: Int, height: Int, frame: Int, sequence: Int,
        cancelled: () -> Bool = { false }
    ) throws -> [Float] {
        let h = height / featureStride
        let w = width / featureStride
        let c = channels
        var out = [Float](repeating: 0, count: c * h * w)
        let patches = corruptionPatches(h: h, w: w, frame: frame, sequence: sequence)
        let band = 16
        try out.withUnsafeMutableBufferPointer { buffer in
            let base = SharedMutablePointer(buffer.baseAddress!)
            // Rows are independent and each writes only its own cells: the
            // result does not depend on thread scheduling (nor on the bands).
            for first in stride(from: 0, to: h, by: band) {
                if cancelled() { throw SyntheticDataset.Cancelled() }
                parallelFor(min(band, h - first)) { row in
                    let i = first + row
                    var feature = [Float](repeating: 0, count: c)
                    var weights = [Float](repeating: 0, count: classes)
                    for j in 0..<w {
                        mixture(
                            i: i, j: j, labels: labels, width: width, height: height, weights: &weights,
                            into: &feature)
                        for patch in patches { patch.apply(i: i, j: j, feature: &feature, glare: glare) }
                        let cellSeed = Deterministic.hash(Int(truncatingIfNeeded: seed), sequence, frame, i, j)
                        var rng = SplitMix64(seed: cellSeed)
                        for k in 0..<c { base[k * h * w + i * w + j] = feature[k] + knobs.noise * rng.normal() }
                    }
                }
            }
        }
        return out
    }

    /// Class weights in the receptive field of cell (i, j), and the bent mixture.
    func mixture(
        i: Int, j: Int, labels: [UInt8], width: Int, height: Int, weights: inout [Float], into feature: inout [Float]
    ) {
        for k in 0..<classes { weights[k] = 0 }
        let cy = featureStride * i + featureStride / 2
        let cx = featureStride * j + featureStride / 2
        let r = knobs.receptiveRadius
        var total: Float = 0
        var y = max(0, cy - r)
        while y < min(height, cy + r) {
            var x = max(0, cx - r)
            while x < min(width, cx + r) {
                let id = Int(labels[y * width + x])
                if id < classes {
                    let d2 = Float((y - cy) * (y - cy) + (x - cx) * (x - cx))
                    let weight = 1 / (1 + d2 / Float(r * r / 4))
                    weights[id] += weight
                    total += weight
                }
                x += 2
            }
            y += 2
        }
        for k in 0..<channels { feature[k] = 0 }
        guard total > 0 else { return }
        var first = 0
        var second = -1
        for k in 0..<classes {
            weights[k] /= total
            if weights[k] > weights[first] { first = k }
        }
        for k in 0..<classes where k != first && weights[k] > 0 && (second < 0 || weights[k] > weights[second]) {
            second = k
        }
        for k in 0..<classes where weights[k] > 0 {
            let anchor = anchors[k]
            let p = weights[k]
            for n in 0..<channels { feature[n] += p * anchor[n] }
        }
        guard second >= 0, weights[second] > 0.02 else { return }
        // t in (0, 1/2]: how far into the boundary; the bend is zero in
        // interiors and at the exact middle, largest in between.
        let t = weights[second] / (weights[first] + weights[second])
        let strength = pairStrength[first * classes + second]
        let along = strength * 0.5 * Deterministic.sinPi(2 * t)
        let across = strength * 0.6 * Deterministic.sinPi(t) * Deterministic.tanh(4 * (t - 0.25))
        let a = anchors[first]
        let b = anchors[second]
        let direction = pairDirections[first * classes + second]
        for n in 0..<channels { feature[n] += along * (b[n] - a[n]) + across * direction[n] }
    }

    struct Patch {
        enum Kind { case glare, blur, occluder }
        var kind: Kind
        var ci: Float, cj: Float, radius: Float
        var seed: UInt64

        func apply(i: Int, j: Int, feature: inout [Float], glare: [Float]) {
            let di = Float(i) - ci
            let dj = Float(j) - cj
            let d2 = di * di + dj * dj
            guard d2 < radius * radius else { return }
            let strength = 1 - d2 / (radius * radius) * 0.4
            switch kind {
            case .glare:
                for n in 0..<feature.count {
                    feature[n] = feature[n] * (1 - 0.92 * strength) + glare[n] * 0.92 * strength
                }
            case .blur:
                // A blurred region loses contrast towards the mean of its values.
                var mean: Float = 0
                for v in feature { mean += v }
                mean /= Float(feature.count)
                for n in 0..<feature.count { feature[n] = feature[n] * (1 - 0.92 * strength) + mean * 0.92 * strength }
            case .occluder:
                var rng = SplitMix64(seed: seed ^ UInt64(i * 7919 + j))
                for n in 0..<feature.count {
                    feature[n] = feature[n] * (1 - 0.95 * strength) + rng.normal() * 1.2 * strength
                }
            }
        }
    }

    func corruptionPatches(h: Int, w: Int, frame: Int, sequence: Int) -> [Patch] {
        var rng = SplitMix64(seed: Deterministic.hash(Int(truncatingIfNeeded: seed), sequence, frame, 0xc0))
        let count = Int((Float(h * w) / 1000 * knobs.corruptionsPerKiloCell).rounded())
        return (0..<count).map { _ in
            let roll = rng.int(0..<3)
            return Patch(
                kind: roll == 0 ? .glare : roll == 1 ? .blur : .occluder,
                ci: rng.uniform(0, Float(h)), cj: rng.uniform(0, Float(w)),
                radius: rng.uniform(knobs.corruptionRadius.lowerBound, knobs.corruptionRadius.upperBound)
                    * max(1, Float(h) / 32),
                seed: rng.next())
        }
    }
}
