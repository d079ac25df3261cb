import SegDataset
import SegFormats
import SegLabels

/// The part of an image a pane shows, in image pixels (half-open).
public struct Viewport: Equatable, Sendable {
    public var x0: Float, y0: Float, x1: Float, y1: Float

    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    /// Source pixel range covered by output pixel `i` of `n` along one axis.
    @inline(__always)
    static func span(_ i: Int, _ n: Int, _ a: Float, _ b: Float, limit: Int) -> Range<Int> {
        let lo = a + (b - a) * Float(i) / Float(n)
        let hi = a + (b - a) * Float(i + 1) / Float(n)
        let start = max(0, min(limit - 1, Int(lo.rounded(.down))))
        let end = max(start + 1, min(limit, Int(hi.rounded(.up))))
        return start..<end
    }
}

/// Reduces full-resolution maps to pane pixels (two per terminal cell).
public enum Downsample {
    /// Majority label within each output pixel's footprint, so every output
    /// pixel is a label that occurs there (never a blend). Ties go to the
    /// smaller id. `keeping` (a focused class) wins wherever it occurs, so a
    /// class of a few pixels still shows at any zoom.
    public static func majority(
        _ ids: [UInt8], width: Int, height: Int, viewport v: Viewport,
        outWidth: Int, outHeight: Int, keeping: UInt8? = nil
    ) -> [UInt8] {
        var out = [UInt8](repeating: 255, count: outWidth * outHeight)
        var counts = [UInt32](repeating: 0, count: 256)
        var touched: [UInt8] = []
        touched.reserveCapacity(64)
        let columns = (0..<outWidth).map { Viewport.span($0, outWidth, v.x0, v.x1, limit: width) }
        ids.withUnsafeBufferPointer { source in
            counts.withUnsafeMutableBufferPointer { counts in
                out.withUnsafeMutableBufferPointer { out in
                    for oy in 0..<outHeight {
                        let rows = Viewport.span(oy, outHeight, v.y0, v.y1, limit: height)
                        for ox in 0..<outWidth {
                            let cols = columns[ox]
                            // Label maps are piecewise constant: a footprint's row is a few runs, each
                            // counted at once instead of pixel by pixel.
                            for y in rows {
                                var p = source.baseAddress! + y * width + cols.lowerBound
                                let end = p + cols.count
                                while p < end {
                                    let id = p.pointee
                                    var q = p + 1
                                    while q < end && q.pointee == id { q += 1 }
                                    if counts[Int(id)] == 0 { touched.append(id) }
                                    counts[Int(id)] += UInt32(q - p)
                                    p = q
                                }
                            }
                            var best: UInt8 = 255
                            var bestCount: UInt32 = 0
                            for id in touched {
                                let c = counts[Int(id)]
                                if c > bestCount || (c == bestCount && id < best) {
                                    best = id
                                    bestCount = c
                                }
                                counts[Int(id)] = 0
                            }
                            if let keeping, touched.contains(keeping) { best = keeping }
                            touched.removeAll(keepingCapacity: true)
                            out[oy * outWidth + ox] = best
                        }
                    }
                }
            }
        }
        return out
    }

    /// Mean colour over each output pixel's footprint.
    public static func areaAverage(_ image: RGBImage, viewport v: Viewport, outWidth: Int, outHeight: Int) -> [RGB] {
        var out = [RGB](repeating: RGB(0, 0, 0), count: outWidth * outHeight)
        let columns = (0..<outWidth).map { Viewport.span($0, outWidth, v.x0, v.x1, limit: image.width) }
        image.rgb.withUnsafeBufferPointer { rgb in
            for oy in 0..<outHeight {
                let rows = Viewport.span(oy, outHeight, v.y0, v.y1, limit: image.height)
                for ox in 0..<outWidth {
                    var r = 0
                    var g = 0
                    var b = 0
                    for y in rows {
                        var i = (y * image.width + columns[ox].lowerBound) * 3
                        for _ in columns[ox] {
                            r += Int(rgb[i])
                            g += Int(rgb[i + 1])
                            b += Int(rgb[i + 2])
                            i += 3
                        }
                    }
                    let n = rows.count * columns[ox].count
                    out[oy * outWidth + ox] = RGB(UInt8(r / n), UInt8(g / n), UInt8(b / n))
                }
            }
        }
        return out
    }

    /// For sparse marks (0 = none): the most frequent non-zero mark in the
    /// footprint, so a single highlighted pixel still shows when zoomed out.
    public static func anyMark(
        _ marks: [UInt8], width: Int, height: Int, viewport v: Viewport,
        outWidth: Int, outHeight: Int
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outWidth * outHeight)
        let columns = (0..<outWidth).map { Viewport.span($0, outWidth, v.x0, v.x1, limit: width) }
        for oy in 0..<outHeight {
            let rows = Viewport.span(oy, outHeight, v.y0, v.y1, limit: height)
            for ox in 0..<outWidth {
                var counts = (0, 0, 0, 0, 0)
                for y in rows {
                    for x in columns[ox] {
                        switch marks[y * width + x] {
                        case 1: counts.1 += 1
                        case 2: counts.2 += 1
                        case 3: counts.3 += 1
                        case 4: counts.4 += 1
                        default: break
                        }
                    }
                }
                let ranked = [(1, counts.1), (2, counts.2), (3, counts.3), (4, counts.4)].max { $0.1 < $1.1 }!
                out[oy * outWidth + ox] = ranked.1 > 0 ? UInt8(ranked.0) : 0
            }
        }
        return out
    }
}
