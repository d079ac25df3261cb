import SegDataset
import SegEngine
import SegFormats

/// One frame's backbone features, channel-first [C, H*W] float32.
public struct FeatureMap: Sendable {
    public let values: [Float]
    public let channels: Int, height: Int, width: Int

    public init(values: [Float], channels: Int, height: Int, width: Int) {
        precondition(values.count == channels * height * width)
        (self.values, self.channels, self.height, self.width) = (values, channels, height, width)
    }

    /// Reads float npy [C, H, W] or [1, C, H, W].
    public static func read(path: String) throws -> FeatureMap {
        let array = try Npy.read(path: path)
        let shape = array.shape.count == 4 && array.shape[0] == 1 ? Array(array.shape.dropFirst()) : array.shape
        guard shape.count == 3, !array.elementType.isInteger else {
            throw FormatError.unsupported(
                path: path,
                problem:
                    "features must be float [C,H,W] or [1,C,H,W], found \(array.elementType.rawValue) \(array.shape)")
        }
        let values = array.floats()
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw RunError(
                "\(path): feature \(values[i]) at channel \(i / (shape[1] * shape[2])), position \(i % (shape[1] * shape[2])) (features must be finite)"
            )
        }
        return FeatureMap(values: values, channels: shape[0], height: shape[1], width: shape[2])
    }

    /// The features of the image file at `path` (PNG or JPEG) through `backbone`; sides must be multiples of
    /// the stride, and non-finite features are named.
    public static func throughBackbone(_ backbone: PSPNetBackbone, image path: String) throws -> FeatureMap {
        let image = try RGBImage.read(path: path)
        guard image.height % featureStride == 0, image.width % featureStride == 0 else {
            throw RunError(
                "\(path): \(image.width)x\(image.height) is not a multiple of \(featureStride) in both directions")
        }
        let values = backbone.features(rgb: image.rgb, height: image.height, width: image.width)
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw RunError("\(path): the backbone's features hold \(values[i]) at element \(i)")
        }
        return FeatureMap(
            values: values, channels: backbone.channels, height: image.height / featureStride,
            width: image.width / featureStride)
    }

    /// The shapes of a window's three maps (T-1, T, T+1) agree; else the odd one out is named with the others'.
    public static func checkWindow(_ maps: [FeatureMap], paths: [String]) throws {
        guard let odd = oddOneOut(maps) else { return }
        let others = (0..<3).filter { !maps[$0].sameShape(maps[odd]) }
            .map { "\(paths[$0]) \(maps[$0].shapeText)" }.joined(separator: " and ")
        throw RunError("\(paths[odd]): shape \(maps[odd].shapeText) differs from \(others)")
    }

    public var largestMagnitude: Float { values.reduce(0) { max($0, abs($1)) } }

    public var shapeText: String { "[\(channels), \(height), \(width)]" }

    func sameShape(_ other: FeatureMap) -> Bool {
        channels == other.channels && height == other.height && width == other.width
    }

    /// Which of a window's three maps (T-1, T, T+1) is at fault, or nil when they agree with each other
    /// and with `channels`: one without the model's channels, else the one whose shape the other two do
    /// not share (T when all three differ, since its neighbours are judged against it).
    static func oddOneOut(_ maps: [FeatureMap], channels: Int? = nil) -> Int? {
        if let channels, let wrong = [1, 0, 2].first(where: { maps[$0].channels != channels }) { return wrong }
        switch (maps[0].sameShape(maps[1]), maps[2].sameShape(maps[1]), maps[0].sameShape(maps[2])) {
        case (true, true, _): return nil
        case (false, true, _): return 0
        case (true, false, _): return 2
        case (false, false, _): return 1
        }
    }
}

/// STF's input for frame T: the features of T-1, T and T+1.
public struct FeatureWindow: Sendable {
    public let previous: FeatureMap, current: FeatureMap, next: FeatureMap
}
