import SegDataset
import SegFormats
import Testing

@testable import SegView

@Suite struct DownsampleTests {
    static func ids(_ w: Int, _ h: Int, seed: Int) -> [UInt8] {
        (0..<(w * h)).map { i in UInt8((i % w / 3 + i / w / 2 + (i * 7919 + seed) % 5 / 4) % 6) }
    }

    /// Reference twin: count every label in the footprint with a dictionary.
    @Test(arguments: [(37, 23, 10, 7), (64, 32, 64, 32), (50, 40, 13, 40), (9, 9, 20, 18)])
    func majorityMatchesPlainCounting(w: Int, h: Int, ow: Int, oh: Int) {
        let ids = Self.ids(w, h, seed: w)
        let v = Viewport(x0: 0, y0: 0, x1: Float(w), y1: Float(h))
        let fast = Downsample.majority(ids, width: w, height: h, viewport: v, outWidth: ow, outHeight: oh)
        let kept = Downsample.majority(
            ids, width: w, height: h, viewport: v, outWidth: ow, outHeight: oh, keeping: 3)
        for oy in 0..<oh {
            for ox in 0..<ow {
                var counts: [UInt8: Int] = [:]
                for y in Viewport.span(oy, oh, 0, Float(h), limit: h) {
                    for x in Viewport.span(ox, ow, 0, Float(w), limit: w) { counts[ids[y * w + x], default: 0] += 1 }
                }
                let best = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }!.key
                #expect(fast[oy * ow + ox] == best)
                #expect(kept[oy * ow + ox] == (counts[3] != nil ? 3 : best), "a kept class wins where it occurs")
            }
        }
    }

    @Test func majorityNeverInventsALabel() {
        // A checkerboard of two classes: every output pixel is one of them, never a mix.
        let w = 40
        let h = 40
        let ids = (0..<(w * h)).map { UInt8((($0 % w) + ($0 / w)) % 2 == 0 ? 7 : 13) }
        let out = Downsample.majority(
            ids, width: w, height: h, viewport: Viewport(x0: 0, y0: 0, x1: 40, y1: 40), outWidth: 7, outHeight: 5)
        #expect(Set(out).isSubset(of: [7, 13]))
    }

    @Test func areaAverageMatchesPlainMean() {
        let w = 12
        let h = 8
        let rgb = (0..<(w * h * 3)).map { UInt8(($0 * 37) % 256) }
        let image = RGBImage(width: w, height: h, rgb: rgb)
        let out = Downsample.areaAverage(
            image, viewport: Viewport(x0: 0, y0: 0, x1: 12, y1: 8), outWidth: 4, outHeight: 2)
        for oy in 0..<2 {
            for ox in 0..<4 {
                var sum = [0, 0, 0]
                for y in (oy * 4)..<(oy * 4 + 4) {
                    for x in (ox * 3)..<(ox * 3 + 3) { for c in 0..<3 { sum[c] += Int(rgb[(y * w + x) * 3 + c]) } }
                }
                let expected = RGB(UInt8(sum[0] / 12), UInt8(sum[1] / 12), UInt8(sum[2] / 12))
                #expect(out[oy * 4 + ox] == expected)
            }
        }
    }

    @Test func sparseMarksSurviveZoomingOut() {
        var marks = [UInt8](repeating: 0, count: 100 * 100)
        marks[55 * 100 + 55] = 2
        let out = Downsample.anyMark(
            marks, width: 100, height: 100, viewport: Viewport(x0: 0, y0: 0, x1: 100, y1: 100), outWidth: 10,
            outHeight: 10)
        #expect(out[5 * 10 + 5] == 2)
        #expect(out.filter { $0 != 0 }.count == 1)
    }
}
