import SegFormats

/// A per-pixel class map in trainIds (0..<K, 255 = ignore / not an evaluated
/// class), row-major.
public struct LabelMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var ids: [UInt8]

    public init(width: Int, height: Int, ids: [UInt8]) {
        precondition(ids.count == width * height, "label map \(width)x\(height) needs \(width * height) ids")
        self.width = width
        self.height = height
        self.ids = ids
    }

    public subscript(x: Int, y: Int) -> UInt8 { ids[y * width + x] }

    /// Nearest-neighbour upsampling by an integer factor (for predictions made
    /// at a fraction of the ground truth's resolution).
    public func upsampled(by factor: Int) -> LabelMap {
        let w = width * factor
        let h = height * factor
        var out = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            let source = (y / factor) * width
            for x in 0..<w { out[y * w + x] = ids[source + x / factor] }
        }
        return LabelMap(width: w, height: h, ids: out)
    }
}

/// How class ids are stored in a label PNG.
public enum LabelEncoding: String, Sendable, CaseIterable {
    /// 8-bit gray, values are trainIds (Cityscapes `*_labelTrainIds.png`).
    case trainIds
    /// 8-bit gray, values are labelIds (Cityscapes `*_labelIds.png`).
    case labelIds
    /// RGB(A) colours of the label table (Cityscapes `*_color.png`).
    case color
}

public struct EncodingDecision: Sendable, Equatable {
    public let encoding: LabelEncoding
    public let reason: String
    /// Set when the file's name and its values disagree: the most common
    /// mistake with Cityscapes data (labelIds read as trainIds and vice versa).
    public let warning: String?

    public init(encoding: LabelEncoding, reason: String, warning: String?) {
        self.encoding = encoding
        self.reason = reason
        self.warning = warning
    }
}

public struct DecodedLabels: Sendable {
    public let map: LabelMap
    public let encoding: LabelEncoding
    /// Colours not in the label table, most frequent first, with pixel counts
    /// (those pixels become 255).
    public let unknownColors: [(color: RGB, pixels: Int)]
    /// Pixels whose value is no id of the label space (they become 255).
    public let outOfRangePixels: Int
}

extension LabelSpace {
    /// Decides how `image` (read from `path`) stores labels, from its colour
    /// type, its file name and the values it holds.
    public func detectEncoding(of image: PNGImage, path: String) throws -> EncodingDecision {
        switch image.colorType {
        case .rgb, .rgba:
            guard image.bitDepth == 8 else {
                throw LabelError.wrongBitDepth(path: path, bitDepth: image.bitDepth, colorType: "\(image.colorType)")
            }
            return EncodingDecision(encoding: .color, reason: "RGB image", warning: nil)
        case .grayAlpha:
            throw LabelError.wrongBitDepth(path: path, bitDepth: image.bitDepth, colorType: "gray+alpha")
        case .gray where image.bitDepth == 16:
            throw LabelError.wrongBitDepth(path: path, bitDepth: 16, colorType: "gray")
        case .gray, .palette:
            break
        }
        var present = [Bool](repeating: false, count: 256)
        for v in image.bytes ?? [] { present[Int(v)] = true }
        let maxTrain = count - 1
        let hasIgnore = present[255]
        let highest = (0..<255).last { present[$0] } ?? -1
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let stored = image.colorType == .palette ? "palette indices" : "gray values"
        let valuesLookLikeLabelIds = highest > maxTrain
        let valuesLookLikeTrainIds = hasIgnore && highest <= maxTrain
        if name.contains("labelTrainIds") || name.contains("trainIds") {
            let warning =
                valuesLookLikeLabelIds
                ? "\(path): named as trainIds but holds \(stored) up to \(highest), above the \(count) train ids: is it labelIds?"
                : nil
            return EncodingDecision(encoding: .trainIds, reason: "file name says trainIds", warning: warning)
        }
        if name.contains("labelIds") {
            let warning =
                valuesLookLikeTrainIds
                ? "\(path): named as labelIds but holds 255 and nothing above \(maxTrain): is it trainIds?" : nil
            return EncodingDecision(encoding: .labelIds, reason: "file name says labelIds", warning: warning)
        }
        if valuesLookLikeLabelIds {
            return EncodingDecision(
                encoding: .labelIds, reason: "\(stored) up to \(highest) exceed the \(count) train ids", warning: nil)
        }
        if hasIgnore {
            return EncodingDecision(
                encoding: .trainIds, reason: "\(stored) hold the ignore value 255 and nothing above \(maxTrain)",
                warning: nil)
        }
        return EncodingDecision(
            encoding: .trainIds,
            reason: "all \(stored) are valid train ids (ambiguous; override the encoding if these are labelIds)",
            warning: nil)
    }

    /// Converts a label PNG to trainIds using `encoding`.
    public func decode(_ image: PNGImage, encoding: LabelEncoding, path: String) throws -> DecodedLabels {
        let pixels = image.width * image.height
        switch encoding {
        case .trainIds, .labelIds:
            guard image.colorType == .gray || image.colorType == .palette, let bytes = image.bytes else {
                throw LabelError.wrongEncoding(
                    path: path,
                    problem:
                        "\(encoding.rawValue) need an 8-bit gray or palette PNG, found \(image.colorType) \(image.bitDepth)-bit"
                )
            }
            var lookup = [UInt8](repeating: LabelSpace.ignore, count: 256)
            var valid = [Bool](repeating: false, count: 256)
            valid[255] = true
            if encoding == .trainIds {
                for k in 0..<count {
                    lookup[k] = UInt8(k)
                    valid[k] = true
                }
            } else {
                lookup = labelIdToTrainId
                for label in labels where label.id >= 0 && label.id < 256 { valid[label.id] = true }
            }
            // Map and count invalid values through two tables: no branches, no scatter.
            let invalid = valid.map { $0 ? 0 : 1 }
            var outOfRange = 0
            let ids = [UInt8](unsafeUninitializedCapacity: pixels) { out, n in
                bytes.withUnsafeBufferPointer { source in
                    lookup.withUnsafeBufferPointer { table in
                        invalid.withUnsafeBufferPointer { bad in
                            let s = source.baseAddress!
                            let o = out.baseAddress!
                            let t = table.baseAddress!
                            let b = bad.baseAddress!
                            var count = 0
                            for i in 0..<pixels {
                                let v = Int(s[i])
                                o[i] = t[v]
                                count &+= b[v]
                            }
                            outOfRange = count
                        }
                    }
                }
                n = pixels
            }
            return DecodedLabels(
                map: LabelMap(width: image.width, height: image.height, ids: ids),
                encoding: encoding, unknownColors: [], outOfRangePixels: outOfRange)
        case .color:
            guard image.colorType == .rgb || image.colorType == .rgba || image.colorType == .palette,
                let bytes = image.bytes
            else {
                throw LabelError.wrongEncoding(
                    path: path,
                    problem:
                        "colour labels need an 8-bit RGB, RGBA or palette PNG, found \(image.colorType) \(image.bitDepth)-bit"
                )
            }
            let table = colorToTrainId
            var unknown: [UInt32: Int] = [:]
            var ids = [UInt8](repeating: LabelSpace.ignore, count: pixels)
            let stride = image.channels
            // Consecutive pixels mostly share a colour; remember the last lookup.
            var lastKey: UInt32 = .max
            var lastId: UInt8? = nil
            for i in 0..<pixels {
                let key: UInt32
                if image.colorType == .palette {
                    let p = image.palette[Int(bytes[i])]
                    key = p.packed
                } else {
                    let o = i * stride
                    key = UInt32(bytes[o]) << 16 | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2])
                }
                if key != lastKey {
                    lastKey = key
                    lastId = table[key]
                }
                if let id = lastId { ids[i] = id } else { unknown[key, default: 0] += 1 }
            }
            let unknownColors = unknown.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .map {
                    (
                        color: RGB(UInt8($0.key >> 16), UInt8(($0.key >> 8) & 0xff), UInt8($0.key & 0xff)),
                        pixels: $0.value
                    )
                }
            return DecodedLabels(
                map: LabelMap(width: image.width, height: image.height, ids: ids), encoding: .color,
                unknownColors: unknownColors, outOfRangePixels: 0)
        }
    }

    /// Encodes trainIds back to a PNG in `encoding` (used to write GT and predictions).
    public func encode(_ map: LabelMap, as encoding: LabelEncoding) -> PNGImage {
        switch encoding {
        case .trainIds:
            return PNGImage(
                width: map.width, height: map.height, colorType: .gray, bitDepth: 8, samples: .eight(map.ids))
        case .labelIds:
            // Ignored pixels get the first void label (Cityscapes: 0 "unlabeled", CamVid: 11 "void").
            let voidId = UInt8(labels.first { $0.trainId == 255 && $0.id >= 0 }?.id ?? 0)
            var lookup = trainIdToLabelId
            for k in count..<256 { lookup[k] = voidId }
            return PNGImage(
                width: map.width, height: map.height, colorType: .gray, bitDepth: 8,
                samples: .eight(map.ids.map { lookup[Int($0)] }))
        case .color:
            let palette = classes.map(\.color)
            let ignoreColor = labels.first { $0.trainId == 255 || $0.trainId < 0 }?.color ?? RGB(0, 0, 0)
            var rgb = [UInt8](repeating: 0, count: map.ids.count * 3)
            for (i, id) in map.ids.enumerated() {
                let c = Int(id) < palette.count ? palette[Int(id)] : ignoreColor
                rgb[3 * i] = c.r
                rgb[3 * i + 1] = c.g
                rgb[3 * i + 2] = c.b
            }
            return PNGImage(width: map.width, height: map.height, colorType: .rgb, bitDepth: 8, samples: .eight(rgb))
        }
    }
}
