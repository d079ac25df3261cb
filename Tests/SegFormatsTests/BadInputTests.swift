import Foundation
import SegFormats
import SegTestSupport
import Testing

/// Malformed files made here, each of which must give a typed error naming
/// the file, never a crash. Label-, theme- and dataset-level cases live in
/// their own modules' tests.
@Suite struct BadInputTests {
    enum Expect { case malformed, tooLarge, unsupported, notFound, unreadable }

    static func check(
        _ bytes: [UInt8]?, _ kind: Expect, _ read: (String) throws -> Void,
        containing text: String? = nil
    ) throws {
        let directory = try TestSupport.scratchDirectory()
        let path = directory + "/input"
        if let bytes { try TestSupport.write(bytes, to: path) }
        do {
            try read(path)
            Issue.record("expected an error")
        } catch let error as FormatError {
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
            switch (kind, error) {
            case (.malformed, .malformed), (.tooLarge, .tooLarge), (.unsupported, .unsupported),
                (.notFound, .notFound), (.unreadable, .unreadable):
                break
            default: Issue.record("expected \(kind), got \(error)")
            }
            if let text { #expect(error.description.contains(text), "\(error)") }
        }
    }

    static func validPNG() throws -> [UInt8] {
        let values = (0..<(40 * 30)).map { UInt8($0 % 7) }
        return try PNG.encode(PNGImage(width: 40, height: 30, colorType: .gray, bitDepth: 8, samples: .eight(values)))
    }

    static let readPNG: @Sendable (String) throws -> Void = { _ = try PNG.read(path: $0) }
    static let readNpy: @Sendable (String) throws -> Void = { _ = try Npy.read(path: $0) }
    static let readSafetensors: @Sendable (String) throws -> Void = { _ = try SafetensorsFile(path: $0) }

    // PNG

    @Test func pngTruncated() throws {
        let png = try Self.validPNG()
        try Self.check(Array(png.prefix(png.count / 2)), .malformed, Self.readPNG)
    }

    @Test func pngBadCRC() throws {
        var png = try Self.validPNG()
        png[png.count - 20] ^= 0xff  // inside the last IDAT's data
        try Self.check(png, .malformed, Self.readPNG)
    }

    @Test func pngBadSignature() throws {
        var png = try Self.validPNG()
        png[1] = UInt8(ascii: "Q")
        try Self.check(png, .malformed, Self.readPNG, containing: "signature")
    }

    @Test func pngEmptyFile() throws { try Self.check([], .malformed, Self.readPNG) }

    @Test func pngZeroSize() throws {
        try Self.check(
            TestSupport.pngWithHeader(width: 0, height: 0, bitDepth: 8, colorType: 0), .malformed, Self.readPNG)
    }

    @Test func pngHugeDeclaredSizeIsRefusedBeforeAllocating() throws {
        // 1,000,000 x 1,000,000 RGBA would be 4 TB; the limit stops it at IHDR.
        try Self.check(
            TestSupport.pngWithHeader(width: 1_000_000, height: 1_000_000, bitDepth: 8, colorType: 6),
            .tooLarge, Self.readPNG)
    }

    @Test func pngSizeLimitIsConfigurable() throws {
        let png = try Self.validPNG()
        try Self.check(png, .tooLarge, { _ = try PNG.read(path: $0, maxSide: 32) })
    }

    @Test func pngInvalidBitDepthForColorType() throws {
        try Self.check(
            TestSupport.pngWithHeader(width: 4, height: 4, bitDepth: 4, colorType: 2), .malformed, Self.readPNG)
    }

    @Test func pngPaletteIndexOutOfRange() throws {
        // libpng will not write a bad index, so write a valid 8-entry palette
        // image and cut its PLTE chunk down to 2 entries.
        let palette = (0..<8).map { RGB(UInt8($0), 0, 0) }
        let image = PNGImage(
            width: 4, height: 2, colorType: .palette, bitDepth: 8, palette: palette,
            samples: .eight([0, 1, 0, 1, 5, 0, 1, 0]))
        var png = try PNG.encode(image)
        let plte = try #require(Self.chunkRange("PLTE", in: png))
        png.replaceSubrange(plte, with: TestSupport.pngChunk("PLTE", [0, 0, 0, 1, 0, 0]))
        try Self.check(png, .malformed, Self.readPNG, containing: "palette index")
    }

    /// The byte range of the first chunk of `type` (length, type, data, CRC).
    static func chunkRange(_ type: String, in png: [UInt8]) -> Range<Int>? {
        var i = 8
        while i + 8 <= png.count {
            let length = Int(png[i]) << 24 | Int(png[i + 1]) << 16 | Int(png[i + 2]) << 8 | Int(png[i + 3])
            if String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self) == type { return i..<(i + 12 + length) }
            i += 12 + length
        }
        return nil
    }

    @Test func pngPaletteWithoutPLTE() throws {
        let ihdr = TestSupport.bigEndian(2) + TestSupport.bigEndian(2) + [8, 3, 0, 0, 0]
        let bytes =
            TestSupport.pngSignature + TestSupport.pngChunk("IHDR", ihdr)
            + TestSupport.pngChunk(
                "IDAT", [0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0x60, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01])
            + TestSupport.pngChunk("IEND", [])
        try Self.check(bytes, .malformed, Self.readPNG)
    }

    @Test func pngMissingFile() throws { try Self.check(nil, .notFound, Self.readPNG) }

    @Test func pngDirectoryInsteadOfFile() throws {
        let directory = try TestSupport.scratchDirectory()
        #expect(throws: FormatError.unreadable(path: directory, reason: "is a directory")) {
            _ = try PNG.read(path: directory)
        }
    }

    // npy

    static func npyHeader(_ dict: String, version: UInt8 = 1, payload: Int = 0) -> [UInt8] {
        var header = Array(dict.utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0a)
        let length = header.count
        return [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(length & 0xff), UInt8(length >> 8)] + header
            + [UInt8](repeating: 0, count: payload)
    }

    @Test func npyBadMagic() throws {
        var bytes = Self.npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", payload: 8)
        bytes[1] = UInt8(ascii: "X")
        try Self.check(bytes, .malformed, Self.readNpy, containing: "magic")
    }

    @Test func npyLyingShape() throws {
        try Self.check(
            Self.npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", payload: 40),
            .malformed, Self.readNpy, containing: "payload")
    }

    /// Found by the fuzzer: a shape whose element count fits in Int but whose
    /// byte count does not (it trapped while writing the error message).
    @Test func npyByteCountOverflow() throws {
        try Self.check(
            Self.npyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (608024407900225534, 2, 2), }"),
            .malformed, Self.readNpy, containing: "overflows the byte count")
    }

    @Test func npyUnknownDtype() throws {
        try Self.check(
            Self.npyHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", payload: 16),
            .unsupported, Self.readNpy, containing: "<c8")
    }

    @Test func npyBigEndian() throws {
        try Self.check(
            Self.npyHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", payload: 8),
            .unsupported, Self.readNpy, containing: "big-endian")
    }

    @Test func npyHeaderLengthBeyondFile() throws {
        var bytes = Self.npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")
        bytes[8] = 0xff
        bytes[9] = 0x7f
        try Self.check(bytes, .malformed, Self.readNpy, containing: "header length")
    }

    @Test func npyUnknownVersion() throws {
        try Self.check(
            Self.npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", version: 4, payload: 8),
            .unsupported, Self.readNpy, containing: "version")
    }

    @Test func npyMissingKey() throws {
        try Self.check(Self.npyHeader("{'descr': '<f4', 'shape': (2,), }", payload: 8), .malformed, Self.readNpy)
    }

    @Test func npyMalformedDict() throws {
        try Self.check(
            Self.npyHeader("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", payload: 8),
            .malformed, Self.readNpy)
    }

    @Test func npyTooManyDimensions() throws {
        try Self.check(
            Self.npyHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2), }", payload: 2),
            .unsupported, Self.readNpy, containing: "5-D")
    }

    @Test func npyTruncatedPreamble() throws {
        try Self.check([0x93, 0x4e, 0x55], .malformed, Self.readNpy)
    }

    @Test func npyNegativeDimension() throws {
        try Self.check(
            Self.npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", payload: 8),
            .malformed, Self.readNpy)
    }

    @Test func npyIntegerRequestOnFloats() throws {
        let directory = try TestSupport.scratchDirectory()
        try Npy.write([Float(1.5)], shape: [1], to: directory + "/f.npy")
        #expect(throws: FormatError.self) { _ = try Npy.read(path: directory + "/f.npy").int64s() }
    }

    // safetensors

    static func safetensors(_ header: String, payload: Int, lengthOverride: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let length = lengthOverride ?? UInt64(h.count)
        return (0..<8).map { UInt8((length >> (8 * UInt64($0))) & 0xff) } + h + [UInt8](repeating: 0, count: payload)
    }

    @Test func safetensorsOverlappingOffsets() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try Self.check(Self.safetensors(header, payload: 12), .malformed, Self.readSafetensors, containing: "overlaps")
    }

    @Test func safetensorsOffsetsOutsideFile() throws {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        try Self.check(
            Self.safetensors(header, payload: 8), .malformed, Self.readSafetensors, containing: "past the data buffer")
    }

    @Test func safetensorsHeaderLengthBeyondFile() throws {
        try Self.check(
            Self.safetensors("{}", payload: 0, lengthOverride: 4096), .malformed, Self.readSafetensors,
            containing: "header length")
    }

    @Test func safetensorsHeaderAboveCap() throws {
        try Self.check(
            Self.safetensors("{}", payload: 0, lengthOverride: 200_000_000), .malformed,
            Self.readSafetensors, containing: "cap")
    }

    @Test func safetensorsDuplicateKeys() throws {
        let header =
            #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        try Self.check(Self.safetensors(header, payload: 2), .malformed, Self.readSafetensors, containing: "duplicate")
    }

    @Test func safetensorsGapInBuffer() throws {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        try Self.check(Self.safetensors(header, payload: 2), .malformed, Self.readSafetensors, containing: "gap")
    }

    @Test func safetensorsUncoveredTail() throws {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        try Self.check(Self.safetensors(header, payload: 5), .malformed, Self.readSafetensors, containing: "covers")
    }

    @Test func safetensorsShapeDisagreesWithOffsets() throws {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        try Self.check(Self.safetensors(header, payload: 8), .malformed, Self.readSafetensors, containing: "needs")
    }

    @Test func safetensorsUnknownDtype() throws {
        let header = #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#
        try Self.check(Self.safetensors(header, payload: 8), .unsupported, Self.readSafetensors)
    }

    @Test func safetensorsMalformedJSON() throws {
        try Self.check(Self.safetensors(#"{"a": {"dtype": "F32",}"#, payload: 0), .malformed, Self.readSafetensors)
    }

    @Test func safetensorsNonStringMetadata() throws {
        let header = #"{"__metadata__":{"heads":2}}"#
        try Self.check(Self.safetensors(header, payload: 0), .malformed, Self.readSafetensors, containing: "heads")
    }

    @Test func safetensorsShorterThanLengthField() throws {
        try Self.check([1, 2, 3], .malformed, Self.readSafetensors)
    }
}
