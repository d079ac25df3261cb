import SegLabels

/// Boundary IoU (Cheng et al., CVPR 2021), as the official boundary-iou-api
/// computes it for semantic segmentation: per image, d = max(1, round(ratio *
/// diagonal)); boundary(M) = M minus M eroded d times by a 3x3 square with one
/// pixel of zero padding around the image (so the image edge erodes too); per
/// class k, with G = (GT == k) and P = (prediction == k) on pixels whose GT is
/// not ignored, I_k += |B(G) ∧ B(P)| and U_k += |B(G) ∨ B(P)|, summed over the
/// dataset; Boundary IoU_k = I_k / U_k (NaN when U_k = 0).
public enum BoundaryIoU {
    public static let defaultDilationRatio = 0.02

    /// The erosion depth of an image: max(1, round(ratio * diagonal)), as
    /// Python's round (half to even).
    public static func dilation(width: Int, height: Int, ratio: Double) -> Int {
        let d = ratio * (Double(width * width + height * height)).squareRoot()
        return max(1, Int(d.rounded(.toNearestOrEven)))
    }

    /// The boundary of a binary mask [h*w] (1 = in): the pixels of the mask
    /// within `d` (Chebyshev) of a pixel outside it or of the image's edge.
    /// d iterated 3x3 erosions equal one (2d+1)-square erosion; done as a
    /// running minimum along rows, then along columns.
    public static func boundary(_ mask: [UInt8], width w: Int, height h: Int, d: Int) -> [UInt8] {
        // Rows: eroded[x] = 1 iff mask is 1 on [x-d, x+d] and that span stays in the row.
        var rows = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            // Distance to the nearest zero on the left (the padding counts), then on the right.
            var run = 0
            var left = [Int](repeating: 0, count: w)
            for x in 0..<w {
                run = mask[y * w + x] != 0 ? run + 1 : 0
                left[x] = run
            }
            run = 0
            for x in stride(from: w - 1, through: 0, by: -1) {
                run = mask[y * w + x] != 0 ? run + 1 : 0
                rows[y * w + x] = left[x] > d && run > d ? 1 : 0
            }
        }
        var out = [UInt8](repeating: 0, count: w * h)
        var up = [Int](repeating: 0, count: w * h)
        for x in 0..<w {
            var run = 0
            for y in 0..<h {
                run = rows[y * w + x] != 0 ? run + 1 : 0
                up[y * w + x] = run
            }
            run = 0
            for y in stride(from: h - 1, through: 0, by: -1) {
                run = rows[y * w + x] != 0 ? run + 1 : 0
                let eroded = up[y * w + x] > d && run > d
                out[y * w + x] = mask[y * w + x] != 0 && !eroded ? 1 : 0
            }
        }
        return out
    }

    /// For a whole label map at once: 1 where a pixel lies on the boundary of
    /// its own label's mask, i.e. the (2d+1)-square around it leaves the image
    /// or holds another label. Equal to `boundary` of every label's mask,
    /// merged (its plain twin), in four passes instead of four a label.
    public static func boundaries(_ labels: [UInt8], width w: Int, height h: Int, d: Int) -> [UInt8] {
        // labels [h*w] -> 1 where the horizontal span x-d ... x+d stays in the row and in the label.
        var uniformRow = [UInt8](repeating: 0, count: w * h)
        var left = [Int32](repeating: 0, count: w)
        let reach = Int32(d)
        labels.withUnsafeBufferPointer { l in
            uniformRow.withUnsafeMutableBufferPointer { u in
                for y in 0..<h {
                    let row = y * w
                    var run: Int32 = 0
                    for x in 0..<w {
                        run = x > 0 && l[row + x] == l[row + x - 1] ? run + 1 : 0
                        left[x] = run
                    }
                    run = 0
                    for x in stride(from: w - 1, through: 0, by: -1) {
                        run = x < w - 1 && l[row + x] == l[row + x + 1] ? run + 1 : 0
                        u[row + x] = left[x] >= reach && run >= reach ? 1 : 0
                    }
                }
            }
        }
        // Then the same along columns over rows whose span is uniform in the same label.
        var out = [UInt8](repeating: 1, count: w * h)
        var up = [Int32](repeating: 0, count: w * h)
        labels.withUnsafeBufferPointer { l in
            uniformRow.withUnsafeBufferPointer { u in
                out.withUnsafeMutableBufferPointer { o in
                    for y in 0..<h {
                        for x in 0..<w {
                            let i = y * w + x
                            up[i] = u[i] == 0 ? -1 : y > 0 && up[i - w] >= 0 && l[i - w] == l[i] ? up[i - w] + 1 : 0
                        }
                    }
                    var down = [Int32](repeating: 0, count: w)
                    for y in stride(from: h - 1, through: 0, by: -1) {
                        for x in 0..<w {
                            let i = y * w + x
                            down[x] = u[i] == 0 ? -1 : y < h - 1 && down[x] >= 0 && l[i + w] == l[i] ? down[x] + 1 : 0
                            if up[i] >= reach && down[x] >= reach { o[i] = 0 }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Adds one image's intersections and unions per class.
    public static func add(
        groundTruth gt: LabelMap, prediction: LabelMap, classes k: Int, ratio: Double,
        intersections: inout [Int64], unions: inout [Int64]
    ) {
        let w = gt.width
        let h = gt.height
        let d = dilation(width: w, height: h, ratio: ratio)
        // P_k counts only where the GT is not ignored: elsewhere the prediction is no class.
        let none = UInt8(255)
        let valid = zip(gt.ids, prediction.ids).map { g, p in Int(g) < k ? p : none }
        let onGT = boundaries(gt.ids, width: w, height: h, d: d)
        let onPrediction = boundaries(valid, width: w, height: h, d: d)
        for i in 0..<(w * h) {
            let g = Int(gt.ids[i])
            let p = Int(valid[i])
            let inG = g < k && onGT[i] != 0
            let inP = p < k && onPrediction[i] != 0
            if inG && inP && g == p {
                intersections[g] += 1
                unions[g] += 1
            } else {
                if inG { unions[g] += 1 }
                if inP { unions[p] += 1 }
            }
        }
    }

    /// The plain twin of `add`: every class's masks and `boundary` one by one.
    public static func addPerClass(
        groundTruth gt: LabelMap, prediction: LabelMap, classes k: Int, ratio: Double,
        intersections: inout [Int64], unions: inout [Int64]
    ) {
        let w = gt.width
        let h = gt.height
        let n = w * h
        let d = dilation(width: w, height: h, ratio: ratio)
        for c in 0..<k {
            var g = [UInt8](repeating: 0, count: n)
            var p = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                let label = gt.ids[i]
                if Int(label) == c { g[i] = 1 }
                if Int(prediction.ids[i]) == c && Int(label) < k { p[i] = 1 }
            }
            let bg = boundary(g, width: w, height: h, d: d)
            let bp = boundary(p, width: w, height: h, d: d)
            for i in 0..<n {
                intersections[c] += Int64(bg[i] & bp[i])
                unions[c] += Int64(bg[i] | bp[i])
            }
        }
    }
}
