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
            for x in 0..<w { run = mask[y * w + x] != 0 ? run + 1 : 0; left[x] = run }
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
            for y in 0..<h { run = rows[y * w + x] != 0 ? run + 1 : 0; up[y * w + x] = run }
            run = 0
            for y in stride(from: h - 1, through: 0, by: -1) {
                run = rows[y * w + x] != 0 ? run + 1 : 0
                let eroded = up[y * w + x] > d && run > d
                out[y * w + x] = mask[y * w + x] != 0 && !eroded ? 1 : 0
            }
        }
        return out
    }

    /// Adds one image's intersections and unions per class.
    public static func add(groundTruth gt: LabelMap, prediction: LabelMap, classes k: Int, ratio: Double,
                           intersections: inout [Int64], unions: inout [Int64]) {
        let w = gt.width, h = gt.height, n = w * h
        let d = dilation(width: w, height: h, ratio: ratio)
        var present = [Bool](repeating: false, count: k)
        for i in 0..<n {
            let g = Int(gt.ids[i])
            guard g != Int(LabelSpace.ignore), g < k else { continue }
            present[g] = true
            let p = Int(prediction.ids[i])
            if p < k { present[p] = true }
        }
        for c in 0..<k where present[c] {
            var g = [UInt8](repeating: 0, count: n), p = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                let label = gt.ids[i]
                if Int(label) == c { g[i] = 1 }
                if Int(prediction.ids[i]) == c && label != LabelSpace.ignore && Int(label) < k { p[i] = 1 }
            }
            let bg = boundary(g, width: w, height: h, d: d), bp = boundary(p, width: w, height: h, d: d)
            var both: Int64 = 0, either: Int64 = 0
            for i in 0..<n {
                both &+= Int64(bg[i] & bp[i])
                either &+= Int64(bg[i] | bp[i])
            }
            intersections[c] += both
            unions[c] += either
        }
    }
}
