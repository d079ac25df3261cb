import CJPEGShim

/// JPEG frames (VSPW, most video datasets, anything ffmpeg extracts) through
/// libjpeg-turbo, decoded to 8-bit RGB: baseline and progressive; gray is
/// replicated; CMYK and YCCK are refused. The same size limit and one-line
/// errors as PNG; a truncated stream is an error, not a frame padded with gray.
/// Written from 8-bit RGB (synth's frames) as baseline JPEG, atomically.
public enum JPEG {
    /// Whether `bytes` start like a JPEG (SOI marker).
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    /// The frame as RGB samples (width * height * 3).
    public static func read(path: String, maxSide: Int = PNG.defaultMaxSide) throws -> (
        width: Int, height: Int, rgb: [UInt8]
    ) {
        let file = try MappedFile(path: path)
        return try file.withBytes { try decode($0, path: path, maxSide: maxSide) }
    }

    /// Width and height from the header.
    public static func readInfo(path: String, maxSide: Int = PNG.defaultMaxSide) throws -> (width: Int, height: Int) {
        let file = try MappedFile(path: path)
        return try file.withBytes { bytes in
            var info = jpegs_info()
            try call(path: path) { err in
                jpegs_decode(
                    bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                    UInt32(clamping: maxSide), &info, nil, 0, err)
            }
            return (Int(info.width), Int(info.height))
        }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String, maxSide: Int = PNG.defaultMaxSide) throws
        -> (width: Int, height: Int, rgb: [UInt8])
    {
        var info = jpegs_info()
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        try call(path: path) { err in jpegs_decode(data, bytes.count, UInt32(clamping: maxSide), &info, nil, 0, err) }
        let count = Int(info.width) * Int(info.height) * 3
        let rgb = try [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            try call(path: path) { err in
                jpegs_decode(data, bytes.count, UInt32(clamping: maxSide), &info, out.baseAddress, count, err)
            }
            initialized = count
        }
        return (Int(info.width), Int(info.height), rgb)
    }

    /// The quality frames are written at unless a caller says otherwise: VSPW's
    /// frames and Pillow's default are near it, and the error it adds is far below
    /// the colour differences between classes.
    public static let defaultQuality = 90

    /// `rgb` (width * height * 3 samples) as baseline JPEG bytes; `path` only names
    /// the file in errors.
    public static func encode(rgb: [UInt8], width: Int, height: Int, quality: Int = defaultQuality, path: String)
        throws -> [UInt8]
    {
        guard width > 0, height > 0, width <= maximumSide, height <= maximumSide,
            rgb.count == width * height * 3
        else {
            let problem = "cannot encode \(rgb.count) samples as a \(width)x\(height) RGB JPEG"
            throw FormatError.writeFailed(path: path, reason: problem + " (each side 1-\(maximumSide))")
        }
        guard (1...100).contains(quality) else {
            throw FormatError.writeFailed(path: path, reason: "JPEG quality \(quality) is not in 1-100")
        }
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        defer { jpegs_free(output) }
        let (code, message) = withErrorBuffer { err in
            rgb.withUnsafeBufferPointer {
                jpegs_encode(
                    $0.baseAddress, $0.count, UInt32(width), UInt32(height), Int32(quality), &output, &length, err)
            }
        }
        guard code == JPEGS_OK, let output else {
            let reason = message.isEmpty ? "the JPEG encoder failed" : message
            throw FormatError.writeFailed(path: path, reason: code == JPEGS_E_MEMORY ? "out of memory" : reason)
        }
        return [UInt8](UnsafeBufferPointer(start: output, count: length))
    }

    /// Writes `rgb` as a JPEG file, atomically (a temporary file renamed into place).
    public static func write(rgb: [UInt8], width: Int, height: Int, quality: Int = defaultQuality, to path: String)
        throws
    {
        try AtomicFile.write(try encode(rgb: rgb, width: width, height: height, quality: quality, path: path), to: path)
    }

    /// libjpeg's limit on a side (JPEG_MAX_DIMENSION): the format stores 16 bits.
    static let maximumSide = 65500

    /// Runs a shim call with a message buffer: its code and its message.
    private static func withErrorBuffer(_ body: (UnsafeMutablePointer<CChar>) -> Int32) -> (Int32, String) {
        var buffer = [CChar](repeating: 0, count: Int(JPEGS_ERR_LEN))
        let code = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return (code, String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    private static func call(path: String, _ body: (UnsafeMutablePointer<CChar>) -> Int32) throws {
        let (code, message) = withErrorBuffer(body)
        guard code != JPEGS_OK else { return }
        switch Int(code) {
        case JPEGS_E_NOT_JPEG: throw FormatError.malformed(path: path, format: "JPEG", problem: message)
        case JPEGS_E_TOO_LARGE: throw FormatError.tooLarge(path: path, problem: "\(message) (limit can be raised)")
        case JPEGS_E_MEMORY: throw FormatError.unreadable(path: path, reason: "out of memory")
        case JPEGS_E_UNSUPPORTED: throw FormatError.unsupported(path: path, problem: message)
        default:
            throw FormatError.malformed(path: path, format: "JPEG", problem: message.isEmpty ? "corrupt data" : message)
        }
    }
}

/// Frames as files: PNG or JPEG, told apart by the name's extension.
public enum ImageFile {
    public static func isJPEG(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
    }

    /// Width and height from the file's header.
    public static func size(path: String, maxSide: Int = PNG.defaultMaxSide) throws -> (width: Int, height: Int) {
        if isJPEG(path) { return try JPEG.readInfo(path: path, maxSide: maxSide) }
        let info = try PNG.readInfo(path: path, maxSide: maxSide)
        return (info.width, info.height)
    }
}
