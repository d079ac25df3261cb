import CPNGShim

/// A decoded PNG. The PNG format itself (signature, IHDR, PLTE, IDAT, IEND,
/// CRCs, Adam7 interlacing) is parsed by libpng behind `CPNGShim`; this type
/// is what comes out, with samples kept exactly as stored:
/// - gray 1/2/4-bit and palette images: one byte per pixel, values unscaled
///   (a 2-bit gray pixel is 0...3; a palette pixel is its index, never RGB);
/// - 8-bit: one byte per sample; 16-bit: one UInt16 per sample;
/// - samples interleaved, `channels` per pixel, rows top to bottom.
public struct PNGImage: Sendable, Equatable {
    public enum ColorType: Int32, Sendable {
        case gray = 0
        case rgb = 2
        case palette = 3
        case grayAlpha = 4
        case rgba = 6
    }

    public enum Samples: Sendable, Equatable {
        case eight([UInt8])
        case sixteen([UInt16])
    }

    public var width: Int
    public var height: Int
    public var colorType: ColorType
    /// Bit depth as stored in the file (1, 2, 4, 8 or 16).
    public var bitDepth: Int
    public var channels: Int
    public var interlaced: Bool
    public var palette: [RGB]
    public var samples: Samples

    public init(
        width: Int, height: Int, colorType: ColorType, bitDepth: Int, palette: [RGB] = [],
        samples: Samples, interlaced: Bool = false
    ) {
        self.width = width
        self.height = height
        self.colorType = colorType
        self.bitDepth = bitDepth
        self.palette = palette
        self.samples = samples
        self.interlaced = interlaced
        switch colorType {
        case .gray, .palette: channels = 1
        case .grayAlpha: channels = 2
        case .rgb: channels = 3
        case .rgba: channels = 4
        }
    }

    /// The 8-bit samples; nil for a 16-bit image.
    public var bytes: [UInt8]? {
        if case .eight(let b) = samples { return b }
        return nil
    }

    /// The 16-bit samples; nil for an image of 8 bits or fewer.
    public var words: [UInt16]? {
        if case .sixteen(let w) = samples { return w }
        return nil
    }
}

public enum PNG {
    /// Refuse images with a side above this before allocating their pixels.
    public static let defaultMaxSide = 16384
    /// Refuse images with more pixels than this (2^25: 8K UHD, 7680x4320, fits) before allocating them: a
    /// 16384x16384 label is a 268 MB image and gigabytes in the tables made from it.
    public static let defaultMaxPixels = 1 << 25

    /// `accept` sees the header (no samples) before any pixel buffer exists, and throws to refuse the image.
    public static func read(
        path: String, maxSide: Int = defaultMaxSide, maxPixels: Int = defaultMaxPixels,
        accept: (PNGImage) throws -> Void = { _ in }
    ) throws -> PNGImage {
        let file = try MappedFile(path: path)
        return try file.withBytes { try decode($0, path: path, maxSide: maxSide, maxPixels: maxPixels, accept: accept) }
    }

    /// Reads only the header (size, colour type, bit depth, palette).
    public static func readInfo(
        path: String, maxSide: Int = defaultMaxSide,
        maxPixels: Int = defaultMaxPixels
    ) throws -> PNGImage {
        let file = try MappedFile(path: path)
        return try file.withBytes { try header($0, path: path, maxSide: maxSide, maxPixels: maxPixels).image }
    }

    private static func header(
        _ bytes: UnsafeRawBufferPointer, path: String, maxSide: Int,
        maxPixels: Int
    ) throws -> (info: pngs_info, image: PNGImage) {
        var info = pngs_info()
        let side = UInt32(clamping: maxSide)
        try call(path: path) { err in
            pngs_decode(
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, side, side, &info, nil, 0,
                err)
        }
        let pixels = Int(info.width) * Int(info.height)
        if pixels > maxPixels {
            let size = "\(info.width)x\(info.height)"
            throw FormatError.tooLarge(
                path: path,
                problem: "image of \(size) has \(pixels) pixels, above the limit of \(maxPixels)")
        }
        return (info, image(from: info, samples: .eight([])))
    }

    public static func decode(
        _ bytes: UnsafeRawBufferPointer, path: String, maxSide: Int = defaultMaxSide,
        maxPixels: Int = defaultMaxPixels,
        accept: (PNGImage) throws -> Void = { _ in }
    ) throws -> PNGImage {
        var (info, declared) = try header(bytes, path: path, maxSide: maxSide, maxPixels: maxPixels)
        try accept(declared)
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let side = UInt32(clamping: maxSide)
        let sampleCount = Int(info.width) * Int(info.height) * Int(info.channels)
        // Rows are decoded straight into the uninitialised result: no page is touched before libpng writes it.
        if info.sample_bytes == 2 {
            let words = try [UInt16](unsafeUninitializedCapacity: sampleCount) { out, initialized in
                try call(path: path) { err in
                    pngs_decode(
                        data, bytes.count, side, side, &info,
                        UnsafeMutableRawPointer(out.baseAddress)?.assumingMemoryBound(to: UInt8.self),
                        sampleCount * 2, err)
                }
                initialized = sampleCount
            }
            return image(from: info, samples: .sixteen(words))
        }
        let pixels = try [UInt8](unsafeUninitializedCapacity: sampleCount) { out, initialized in
            try call(path: path) { err in
                pngs_decode(data, bytes.count, side, side, &info, out.baseAddress, sampleCount, err)
            }
            initialized = sampleCount
        }
        let image = image(from: info, samples: .eight(pixels))
        if image.colorType == .palette {
            try checkPaletteIndices(pixels, paletteCount: image.palette.count, path: path)
        }
        return image
    }

    private static func checkPaletteIndices(_ pixels: [UInt8], paletteCount: Int, path: String) throws {
        if paletteCount >= 256 { return }
        var highest: UInt8 = 0
        for p in pixels where p > highest { highest = p }
        if Int(highest) >= paletteCount && !pixels.isEmpty {
            throw FormatError.malformed(
                path: path, format: "PNG",
                problem: "palette index \(highest) out of range (palette has \(paletteCount) entries)")
        }
    }

    private static func image(from info: pngs_info, samples: PNGImage.Samples) -> PNGImage {
        var palette: [RGB] = []
        withUnsafeBytes(of: info.palette) { raw in
            for i in 0..<Int(info.palette_count) {
                palette.append(RGB(raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]))
            }
        }
        return PNGImage(
            width: Int(info.width), height: Int(info.height),
            colorType: PNGImage.ColorType(rawValue: info.color_type) ?? .gray,
            bitDepth: Int(info.bit_depth), palette: palette, samples: samples,
            interlaced: info.interlaced != 0)
    }

    /// Encodes gray (8/16-bit), palette (8-bit, with PLTE) or RGB (8-bit) images.
    /// Label maps compress well even at level 1, which writes several times faster.
    public static func encode(_ image: PNGImage, compressionLevel: Int = 6, path: String = "<memory>") throws -> [UInt8]
    {
        let paletteBytes = image.palette.flatMap { [$0.r, $0.g, $0.b] }
        var result: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        let expected = image.width * image.height * image.channels
        let status: Int32 =
            switch image.samples {
            case .eight(let b):
                b.count != expected
                    ? Int32(PNGS_E_ARGUMENT)
                    : encodeRaw(b, image, paletteBytes, compressionLevel, &result, &length, path)
            case .sixteen(let w):
                w.count != expected
                    ? Int32(PNGS_E_ARGUMENT)
                    : w.withUnsafeBytes {
                        encodeRaw(Array($0), image, paletteBytes, compressionLevel, &result, &length, path)
                    }
            }
        defer { pngs_free(result) }
        if status != 0 || result == nil {
            throw FormatError.unsupported(
                path: path,
                problem:
                    "cannot encode \(image.colorType) \(image.bitDepth)-bit PNG of \(image.width)x\(image.height) with \(expected) samples"
            )
        }
        return Array(UnsafeBufferPointer(start: result, count: length))
    }

    private static func encodeRaw(
        _ bytes: [UInt8], _ image: PNGImage, _ palette: [UInt8], _ level: Int,
        _ result: inout UnsafeMutablePointer<UInt8>?, _ length: inout Int,
        _ path: String
    ) -> Int32 {
        var err = [CChar](repeating: 0, count: Int(PNGS_ERR_LEN))
        return pngs_encode(
            bytes, UInt32(image.width), UInt32(image.height), image.colorType.rawValue,
            Int32(image.bitDepth), palette.isEmpty ? nil : palette, Int32(image.palette.count),
            Int32(level), &result, &length, &err)
    }

    public static func write(_ image: PNGImage, to path: String, compressionLevel: Int = 6) throws {
        try AtomicFile.write(try encode(image, compressionLevel: compressionLevel, path: path), to: path)
    }

    private static func call(path: String, _ body: (UnsafeMutablePointer<CChar>) -> Int32) throws {
        var err = [CChar](repeating: 0, count: Int(PNGS_ERR_LEN))
        let status = err.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        if status == 0 { return }
        let message = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch status {
        case Int32(PNGS_E_TOO_LARGE):
            throw FormatError.tooLarge(path: path, problem: "\(message) (limit can be raised)")
        case Int32(PNGS_E_MEMORY):
            throw FormatError.unreadable(path: path, reason: "out of memory")
        default:
            throw FormatError.malformed(path: path, format: "PNG", problem: message.isEmpty ? "corrupt data" : message)
        }
    }
}
