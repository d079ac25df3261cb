import SegFormats
import SegLabels

/// An 8-bit RGB image (frames are shown and averaged in this form).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var rgb: [UInt8]

    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(rgb.count == width * height * 3, "RGB image \(width)x\(height) needs \(width * height * 3) bytes")
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// An image file as RGB: JPEG by its name (.jpg, .jpeg), else PNG.
    public static func read(path: String, maxSide: Int = PNG.defaultMaxSide) throws -> RGBImage {
        guard ImageFile.isJPEG(path) else { return RGBImage(try PNG.read(path: path, maxSide: maxSide)) }
        let jpeg = try JPEG.read(path: path, maxSide: maxSide)
        return RGBImage(width: jpeg.width, height: jpeg.height, rgb: jpeg.rgb)
    }

    /// Any PNG as RGB: gray is replicated, palettes expanded, alpha dropped,
    /// 16-bit samples reduced to their high byte.
    public init(_ png: PNGImage) {
        switch png.samples {
        case .eight(let bytes): self.init(png, samples: bytes) { $0 }
        case .sixteen(let words): self.init(png, samples: words) { UInt8($0 >> 8) }
        }
    }

    /// Samples are reduced to bytes one at a time: a 16-bit image needs no second copy of all its samples.
    private init<Sample>(_ png: PNGImage, samples: [Sample], byte: (Sample) -> UInt8) {
        let n = png.width * png.height
        var rgb = [UInt8](repeating: 0, count: n * 3)
        let scale: UInt8 = png.colorType == .gray && png.bitDepth < 8 ? UInt8(255 / ((1 << png.bitDepth) - 1)) : 1
        for i in 0..<n {
            switch png.colorType {
            case .gray, .grayAlpha:
                let v = byte(samples[i * png.channels]) &* scale
                rgb[3 * i] = v
                rgb[3 * i + 1] = v
                rgb[3 * i + 2] = v
            case .palette:
                let c = png.palette[Int(byte(samples[i]))]
                rgb[3 * i] = c.r
                rgb[3 * i + 1] = c.g
                rgb[3 * i + 2] = c.b
            case .rgb, .rgba:
                rgb[3 * i] = byte(samples[i * png.channels])
                rgb[3 * i + 1] = byte(samples[i * png.channels + 1])
                rgb[3 * i + 2] = byte(samples[i * png.channels + 2])
            }
        }
        self.init(width: png.width, height: png.height, rgb: rgb)
    }
}

/// A per-pixel confidence in [0, 1] (max softmax probability), row-major.
public struct ConfidenceMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "confidence map \(width)x\(height) needs \(width * height) values")
        self.width = width
        self.height = height
        self.values = values
    }

    /// Confidence files, field by field: a 16-bit gray PNG (confidence =
    /// value / 65535), an 8-bit gray PNG (value / 255), or an npy of floats
    /// shaped [H, W] (or [1, H, W]).
    public static func read(path: String) throws -> ConfidenceMap {
        if path.hasSuffix(".npy") {
            let array = try Npy.read(path: path)
            let shape = array.shape.count == 3 && array.shape[0] == 1 ? Array(array.shape.dropFirst()) : array.shape
            guard shape.count == 2, !array.elementType.isInteger else {
                throw FormatError.unsupported(
                    path: path,
                    problem:
                        "confidences must be a float array [H, W], found \(array.elementType.rawValue) \(array.shape)")
            }
            let values = array.floats()
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                let place = "row \(i / shape[1]), column \(i % shape[1])"
                throw FormatError.malformed(
                    path: path, format: "confidence npy",
                    problem: "value \(values[i]) at \(place) (confidences must be finite)")
            }
            return ConfidenceMap(width: shape[1], height: shape[0], values: values)
        }
        func wrongType(_ png: PNGImage) -> FormatError {
            let found = "\(png.colorType) \(png.bitDepth)-bit"
            return .unsupported(path: path, problem: "confidences must be a 16-bit or 8-bit gray PNG, found \(found)")
        }
        let png = try PNG.read(path: path) { header in
            guard header.colorType == .gray, header.bitDepth >= 8 else { throw wrongType(header) }
        }
        if png.colorType == .gray, png.bitDepth == 8, let bytes = png.bytes {
            return ConfidenceMap(width: png.width, height: png.height, values: bytes.map { Float($0) / 255 })
        }
        guard png.colorType == .gray, let words = png.words else { throw wrongType(png) }
        return ConfidenceMap(width: png.width, height: png.height, values: words.map { Float($0) / 65535 })
    }

    /// As a 16-bit gray PNG, or an 8-bit one (`bitDepth` 8) where size matters more than precision.
    /// Values are clamped to [0, 1]; NaN, which no clamp orders, is written as 0 (no confidence).
    public func png(bitDepth: Int = 16) -> PNGImage {
        func quantized(_ value: Float, _ top: Float) -> Float {
            value.isNaN ? 0 : (min(max(value, 0), 1) * top).rounded()
        }
        if bitDepth == 8 {
            let bytes = values.map { UInt8(quantized($0, 255)) }
            return PNGImage(width: width, height: height, colorType: .gray, bitDepth: 8, samples: .eight(bytes))
        }
        let words = values.map { UInt16(quantized($0, 65535)) }
        return PNGImage(width: width, height: height, colorType: .gray, bitDepth: 16, samples: .sixteen(words))
    }

    /// Every `factor`-th pixel of every `factor`-th row (the viewer
    /// nearest-upsamples it back to the ground truth's size).
    public func subsampled(by factor: Int) -> ConfidenceMap {
        let w = (width + factor - 1) / factor
        let h = (height + factor - 1) / factor
        return ConfidenceMap(
            width: w, height: h, values: (0..<(w * h)).map { values[($0 / w) * factor * width + ($0 % w) * factor] })
    }
}

/// Decodes a frame's files on request. It is a value with no caches, so
/// several threads can use one loader at once.
public struct FrameLoader: Sendable {
    public let dataset: Dataset
    public var maxSide = PNG.defaultMaxSide

    public init(dataset: Dataset) { self.dataset = dataset }

    public struct Labels: Sendable {
        public let map: LabelMap
        public let decision: EncodingDecision
        /// Non-fatal things to tell the user (unknown colours, upsampling, name/value disagreement).
        public let notes: [String]
    }

    /// The frame's image; one whose size differs from its ground truth's is an error naming both sizes (the
    /// panes and the backbone's predictions must line up with the ground truth pixel for pixel).
    public func image(_ frame: FrameRecord) throws -> RGBImage? {
        guard let path = frame.image else { return nil }
        let image = try RGBImage.read(path: path, maxSide: maxSide)
        if let groundTruth = frame.groundTruth, let size = try? ImageFile.size(path: groundTruth, maxSide: maxSide),
            size.width != image.width || size.height != image.height
        {
            throw DatasetError.differentSize(
                path: path, size: "\(image.width)x\(image.height)", reference: groundTruth,
                referenceSize: "\(size.width)x\(size.height)")
        }
        return image
    }

    /// The instance ids of a frame's ground truth (16-bit gray, labelId * 1000
    /// + instance number for objects, plain labelId elsewhere), if it has them.
    public func instances(_ frame: FrameRecord) throws -> [UInt16]? {
        guard let path = frame.instances else { return nil }
        func wrongType(_ png: PNGImage) -> FormatError {
            .unsupported(
                path: path,
                problem: "instance ids must be a 16-bit gray PNG, found \(png.colorType) \(png.bitDepth)-bit")
        }
        let png = try PNG.read(path: path, maxSide: maxSide) { if $0.colorType != .gray { throw wrongType($0) } }
        guard png.colorType == .gray, let words = png.words ?? png.bytes?.map(UInt16.init) else { throw wrongType(png) }
        return words
    }

    public func groundTruth(_ frame: FrameRecord) throws -> Labels? {
        guard let path = frame.groundTruth else { return nil }
        return try labels(path: path, encoding: dataset.groundTruthEncoding)
    }

    /// A method's prediction, brought to `size` (the ground truth's) when it
    /// is smaller by an exact integer factor.
    public func prediction(
        _ frame: FrameRecord, method: String, size: (width: Int, height: Int)? = nil,
        sizeSource: String? = nil
    ) throws -> Labels? {
        guard let path = frame.predictions[method] else { return nil }
        let labels = try labels(path: path, encoding: dataset.predictionEncodings[method])
        guard let size else { return labels }
        let map = try fit(
            labels.map, width: labels.map.width, height: labels.map.height, to: size, path: path,
            reference: sizeSource ?? frame.groundTruth ?? "the frame"
        ) { $0.upsampled(by: $1) }
        if map.width == labels.map.width { return labels }
        return Labels(
            map: map, decision: labels.decision,
            notes: labels.notes + [
                "\(path): \(labels.map.width)x\(labels.map.height) upsampled x\(map.width / labels.map.width) (nearest) to \(map.width)x\(map.height)"
            ])
    }

    public func confidence(_ frame: FrameRecord, method: String, size: (width: Int, height: Int)? = nil) throws
        -> ConfidenceMap?
    {
        guard let path = frame.confidences[method] else { return nil }
        let map = try ConfidenceMap.read(path: path)
        guard let size else { return map }
        return try fit(
            map, width: map.width, height: map.height, to: size, path: path, reference: frame.groundTruth ?? "the frame"
        ) { map, factor in
            var values = [Float](repeating: 0, count: map.values.count * factor * factor)
            let w = map.width * factor
            for y in 0..<(map.height * factor) {
                for x in 0..<w { values[y * w + x] = map.values[(y / factor) * map.width + x / factor] }
            }
            return ConfidenceMap(width: w, height: map.height * factor, values: values)
        }
    }

    public func labels(path: String, encoding: LabelEncoding?) throws -> Labels {
        let png = try PNG.read(path: path, maxSide: maxSide, accept: { try Self.checkLabelType($0, path: path) })
        let space = dataset.space
        let decision =
            try encoding.map { EncodingDecision(encoding: $0, reason: "given", warning: nil) }
            ?? space.detectEncoding(of: png, path: path)
        let decoded = try space.decode(png, encoding: decision.encoding, path: path)
        var notes: [String] = decision.warning.map { [$0] } ?? []
        if !decoded.unknownColors.isEmpty {
            let total = decoded.unknownColors.reduce(0) { $0 + $1.pixels }
            let examples = decoded.unknownColors.prefix(3).map { "\($0.color) x\($0.pixels)" }.joined(separator: ", ")
            notes.append(
                "\(path): \(total) pixels have colours outside the \(space.name) table (\(examples)); treated as ignore"
            )
        }
        if decoded.outOfRangePixels > 0 {
            notes.append(
                "\(path): \(decoded.outOfRangePixels) pixels hold no \(decision.encoding.rawValue) value of \(space.name); treated as ignore"
            )
        }
        return Labels(map: decoded.map, decision: decision, notes: notes)
    }

    /// Labels are 8-bit (or fewer) gray or palette values, or 8-bit RGB(A) colours: anything else is refused
    /// from the header, before a buffer for its pixels exists.
    static func checkLabelType(_ header: PNGImage, path: String) throws {
        let holdsLabels: Bool =
            switch header.colorType {
            case .gray, .palette: header.bitDepth <= 8
            case .rgb, .rgba: header.bitDepth == 8
            case .grayAlpha: false
            }
        if !holdsLabels {
            let type = header.colorType == .grayAlpha ? "gray+alpha" : "\(header.colorType)"
            throw LabelError.wrongBitDepth(path: path, bitDepth: header.bitDepth, colorType: type)
        }
    }

    private func fit<T>(
        _ value: T, width: Int, height: Int, to size: (width: Int, height: Int), path: String,
        reference: String, upsample: (T, Int) -> T
    ) throws -> T {
        if width == size.width && height == size.height { return value }
        if width > 0, height > 0, size.width % width == 0, size.height % height == 0,
            size.width / width == size.height / height
        {
            return upsample(value, size.width / width)
        }
        throw DatasetError.sizeMismatch(
            path: path, size: "\(width)x\(height)", reference: reference,
            referenceSize: "\(size.width)x\(size.height)")
    }
}
