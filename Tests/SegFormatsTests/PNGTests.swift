import Foundation
import SegFormats
import SegTestSupport
import Testing

@Suite struct PNGReadTests {
    /// Every colour type and bit depth, from an independent Python encoder.
    @Test(arguments: [
        "gray1", "gray2", "gray4", "gray8", "gray16", "graya8", "palette2", "palette4",
        "palette8", "rgb8", "rgb16", "rgba8", "rgba16", "gray8_interlaced",
        "rgb8_interlaced", "palette4_interlaced",
    ])
    func readsFixture(name: String) throws {
        let cases = try Fixtures.json("png_cases.json")
        let expected = cases[name] as! [String: Any]
        let image = try PNG.read(path: Fixtures.path(name + ".png"))
        #expect(image.width == expected["width"] as! Int)
        #expect(image.height == expected["height"] as! Int)
        #expect(Int(image.colorType.rawValue) == expected["color_type"] as! Int)
        #expect(image.bitDepth == expected["bit_depth"] as! Int)
        #expect(image.channels == expected["channels"] as! Int)
        #expect(image.interlaced == expected["interlaced"] as! Bool)
        let samples = (expected["samples"] as! [Int])
        let got: [Int] = image.bitDepth == 16 ? image.words!.map(Int.init) : image.bytes!.map(Int.init)
        #expect(got == samples)
        let palette = expected["palette"] as! [Int]
        #expect(image.palette.flatMap { [Int($0.r), Int($0.g), Int($0.b)] } == palette)
    }

    @Test func paletteImagesKeepIndices() throws {
        // A label map stored as a palette PNG must come back as indices, not RGB.
        let image = try PNG.read(path: Fixtures.path("palette8.png"))
        #expect(image.channels == 1)
        #expect(image.bytes!.count == image.width * image.height)
    }

    @Test func headerOnlyReadDoesNotDecodePixels() throws {
        let info = try PNG.readInfo(path: Fixtures.path("rgb16.png"))
        #expect(info.width == 13 && info.height == 11 && info.bitDepth == 16 && info.channels == 3)
    }
}

@Suite struct PNGRoundTripTests {
    static func pattern(_ count: Int, seed: UInt32, modulo: Int) -> [Int] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Int(state >> 8) % modulo
        }
    }

    @Test func gray8() throws {
        let values = Self.pattern(37 * 19, seed: 1, modulo: 256).map(UInt8.init)
        let image = PNGImage(width: 37, height: 19, colorType: .gray, bitDepth: 8, samples: .eight(values))
        try roundTrip(image)
    }

    @Test func gray16() throws {
        let values = Self.pattern(37 * 19, seed: 2, modulo: 65536).map(UInt16.init)
        let image = PNGImage(width: 37, height: 19, colorType: .gray, bitDepth: 16, samples: .sixteen(values))
        try roundTrip(image)
    }

    @Test func paletteWithPLTE() throws {
        let palette = (0..<19).map { (i: Int) -> RGB in RGB(UInt8(i * 13), UInt8(255 - i * 7), UInt8(i * 3)) }
        let values = Self.pattern(64 * 8, seed: 3, modulo: 19).map(UInt8.init)
        let image = PNGImage(
            width: 64, height: 8, colorType: .palette, bitDepth: 8, palette: palette,
            samples: .eight(values))
        try roundTrip(image)
    }

    @Test func rgb8() throws {
        let values = Self.pattern(21 * 5 * 3, seed: 4, modulo: 256).map(UInt8.init)
        let image = PNGImage(width: 21, height: 5, colorType: .rgb, bitDepth: 8, samples: .eight(values))
        try roundTrip(image)
    }

    @Test func compressionLevelDoesNotChangePixels() throws {
        let values = Self.pattern(50 * 50, seed: 5, modulo: 20).map(UInt8.init)
        let image = PNGImage(width: 50, height: 50, colorType: .gray, bitDepth: 8, samples: .eight(values))
        for level in [0, 1, 9] {
            let bytes = try PNG.encode(image, compressionLevel: level)
            let back = try bytes.withUnsafeBytes { try PNG.decode($0, path: "mem") }
            #expect(back.samples == image.samples)
        }
    }

    @Test func writtenFilesReadIdenticallyInPIL() throws {
        let directory = try TestSupport.scratchDirectory()
        let values = Self.pattern(9 * 4 * 3, seed: 6, modulo: 256).map(UInt8.init)
        try PNG.write(
            PNGImage(width: 9, height: 4, colorType: .rgb, bitDepth: 8, samples: .eight(values)),
            to: directory + "/rgb.png")
        let printed = try TestSupport.python(
            """
            import sys
            import numpy as np
            from PIL import Image
            print(" ".join(str(int(v)) for v in np.array(Image.open(sys.argv[1])).ravel()))
            """, [directory + "/rgb.png"])
        #expect(
            printed.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
                == values.map(Int.init))
    }

    func roundTrip(_ image: PNGImage) throws {
        let directory = try TestSupport.scratchDirectory()
        let path = directory + "/image.png"
        try PNG.write(image, to: path)
        let back = try PNG.read(path: path)
        #expect(back == image)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }
}
