import Foundation
import SegFormats
import SegTestSupport
import Testing

/// JPEG frames against Pillow, which writes the fixtures and decodes them too.
@Suite struct JPEGTests {
    static func fixtures() throws -> String {
        let root = try TestSupport.scratchDirectory()
        _ = try TestSupport.python(
            """
            import sys
            import numpy as np
            from PIL import Image
            root = sys.argv[1]
            rng = np.random.default_rng(5)
            y, x = np.mgrid[0:48, 0:80]
            rgb = np.stack([x * 3, y * 5, (x + y) * 2], -1).astype(np.uint8) ^ rng.integers(0, 32, (48, 80, 3), dtype=np.uint8)
            image = Image.fromarray(rgb)
            image.save(root + "/baseline.jpg", quality=90)
            image.save(root + "/progressive.jpg", quality=85, progressive=True)
            image.save(root + "/subsampled.jpg", quality=75, subsampling=2)
            image.convert("L").save(root + "/gray.jpg", quality=90)
            image.convert("CMYK").save(root + "/cmyk.jpg", quality=90)
            data = open(root + "/baseline.jpg", "rb").read()
            open(root + "/truncated.jpg", "wb").write(data[: len(data) * 2 // 3])
            for name in ("baseline", "progressive", "subsampled", "gray"):
                np.save(root + "/%s.npy" % name, np.asarray(Image.open(root + "/%s.jpg" % name).convert("RGB")))
            """, [root])
        return root
    }

    /// Same library family, same default integer IDCT: Pillow's pixels within 1
    /// (libjpeg-turbo versions may round the upsampling differently), mostly equal.
    @Test func decodesLikePillow() throws {
        let root = try Self.fixtures()
        for name in ["baseline", "progressive", "subsampled", "gray"] {
            let ours = try JPEG.read(path: root + "/\(name).jpg")
            let pillow = try Npy.read(path: root + "/\(name).npy")
            #expect(pillow.shape == [ours.height, ours.width, 3], "\(name)")
            let theirs = try pillow.uint8s()
            let differences = zip(ours.rgb, theirs).map { abs(Int($0) - Int($1)) }
            #expect((differences.max() ?? 99) <= 1, "\(name): max difference \(differences.max() ?? -1)")
            #expect(Double(differences.filter { $0 > 0 }.count) / Double(differences.count) < 0.05, "\(name)")
            #expect(try JPEG.readInfo(path: root + "/\(name).jpg") == (80, 48))
        }
    }

    @Test func badJPEGsAreOneLineErrorsNamingTheFile() throws {
        let root = try Self.fixtures()
        for (name, problem) in [("cmyk", "CMYK JPEG is not supported"), ("truncated", "Premature end of JPEG file")] {
            let path = root + "/\(name).jpg"
            do {
                _ = try JPEG.read(path: path)
                Issue.record("\(name) decoded")
            } catch {
                let text = "\(error)"
                #expect(text.hasPrefix(path + ": ") && !text.contains("\n") && text.contains(problem), "\(text)")
            }
        }
        let png = root + "/not.jpg"
        try Data(TestSupport.pngSignature).write(to: URL(fileURLWithPath: png))
        #expect(throws: FormatError.self) { try JPEG.read(path: png) }
        #expect(throws: FormatError.self) { try JPEG.read(path: root + "/baseline.jpg", maxSide: 32) }
    }

    /// A frame-like image: smooth gradients, flat regions with hard edges, mild noise.
    static func frameLike(width: Int, height: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var state: UInt32 = 7
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 1_664_525 &+ 1_013_904_223
                let noise = Int(state >> 29)
                let inBox = x > width / 4 && x < width / 2 && y > height / 3
                let base = inBox ? [200, 40, 60] : [x * 255 / width, y * 255 / height, 128]
                for c in 0..<3 { rgb[(y * width + x) * 3 + c] = UInt8(min(255, base[c] + noise)) }
            }
        }
        return rgb
    }

    /// The writer's file decodes, through segscope and through Pillow, to pixels
    /// within 1 of each other (the decoders' rounding), and close to the input:
    /// PSNR above 28 dB at quality 90 (this small noisy image with hard edges gives
    /// about 31.6; swapped channels or a wrong row stride give under 15). Pillow's
    /// own encoding of the same pixels at quality 90 (4:2:0, the same quantisation
    /// tables) decodes within 1 of ours: the reference twin.
    @Test func writtenJPEGRoundTripsThroughOursAndPillow() throws {
        let root = try TestSupport.scratchDirectory()
        let (width, height) = (96, 64)
        let rgb = Self.frameLike(width: width, height: height)
        let path = root + "/frame.jpg"
        try JPEG.write(rgb: rgb, width: width, height: height, to: path)
        let ours = try JPEG.read(path: path)
        #expect(ours.width == width && ours.height == height)
        let squared = zip(ours.rgb, rgb).reduce(0.0) { $0 + pow(Double(Int($1.0) - Int($1.1)), 2) }
        let psnr = 10 * log10(255.0 * 255.0 / (squared / Double(rgb.count)))
        #expect(psnr > 28, "PSNR \(psnr) dB")
        try Npy.write(rgb, shape: [height, width, 3], to: root + "/input.npy")
        try TestSupport.python(
            """
            import sys
            import numpy as np
            from PIL import Image
            root = sys.argv[1]
            image = Image.open(root + "/frame.jpg")
            assert image.format == "JPEG" and image.mode == "RGB", (image.format, image.mode)
            np.save(root + "/pillow_decoded.npy", np.asarray(image))
            Image.fromarray(np.load(root + "/input.npy")).save(root + "/pillow.jpg", quality=90, subsampling=2)
            """, [root])
        let pillowDecoded = try Npy.read(path: root + "/pillow_decoded.npy").uint8s()
        let decoderGap = zip(ours.rgb, pillowDecoded).map { abs(Int($0) - Int($1)) }.max() ?? 99
        #expect(pillowDecoded.count == rgb.count && decoderGap <= 1, "Pillow decodes our file \(decoderGap) away")
        let pillowEncoded = try JPEG.read(path: root + "/pillow.jpg")
        let encoderGap = zip(ours.rgb, pillowEncoded.rgb).map { abs(Int($0) - Int($1)) }.max() ?? 99
        #expect(encoderGap <= 1, "Pillow's encoding differs by \(encoderGap)")
        try JPEG.write(rgb: rgb, width: width, height: height, to: root + "/again.jpg")
        #expect(
            FileManager.default.contentsEqual(atPath: path, andPath: root + "/again.jpg"),
            "the same pixels give the same bytes")
    }

    /// An output path that cannot be written, or pixels that do not fit the size,
    /// give one line naming the file, and leave no file (nor temporary) behind.
    @Test func writerErrorsAreOneLineNamingTheFile() throws {
        let root = try TestSupport.scratchDirectory()
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/file"))
        let rgb = Self.frameLike(width: 16, height: 8)
        let cases: [(path: String, width: Int, height: Int, quality: Int, problem: String)] = [
            (root + "/file/frame.jpg", 16, 8, 90, "cannot write: Not a directory"),
            (root + "/missing/frame.jpg", 16, 8, 90, "cannot write: No such file or directory"),
            (root + "/wrong-size.jpg", 16, 9, 90, "cannot encode 384 samples as a 16x9 RGB JPEG"),
            (root + "/huge.jpg", 70000, 1, 90, "each side 1-65500"),
            (root + "/quality.jpg", 16, 8, 101, "JPEG quality 101 is not in 1-100"),
        ]
        for (path, width, height, quality, problem) in cases {
            do {
                try JPEG.write(rgb: rgb, width: width, height: height, quality: quality, to: path)
                Issue.record("\(path) was written")
            } catch {
                let text = "\(error)"
                #expect(text.hasPrefix(path + ": ") && !text.contains("\n") && text.contains(problem), "\(text)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["file"])
    }
}
