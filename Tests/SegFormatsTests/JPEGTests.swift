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
}
