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

    /// Adds one image's intersections and unions per class, in one sweep down
    /// the rows of both maps (`InteriorSweep`, O(width) memory): a pixel is on
    /// the boundary of its own label's mask unless the (2d+1)-square around it
    /// stays in the image and in that label, so every class is done at once.
    /// Equal to `addPerClass` (its plain twin), count for count.
    public static func add(
        groundTruth gt: LabelMap, prediction: LabelMap, classes k: Int, ratio: Double,
        intersections: inout [Int64], unions: inout [Int64]
    ) {
        // Both maps are read in the GT's geometry, as `addPerClass` reads them.
        precondition(gt.ids.count == prediction.ids.count, "ground truth and prediction sizes differ")
        precondition(k >= 0 && k < 256, "label ids are bytes: at most 255 classes")
        let w = gt.width
        let h = gt.height
        guard w > 0, h > 0 else { return }
        let d = dilation(width: w, height: h, ratio: ratio)
        var table = PairTable(classes: k, width: w)
        // Rows within d of the top or bottom edge, and every row when no
        // (2d+1)-square fits in the image, have no interior.
        let noInterior = [UInt8](repeating: 0, count: w)
        gt.ids.withUnsafeBufferPointer { g in
            prediction.ids.withUnsafeBufferPointer { p in
                noInterior.withUnsafeBufferPointer { zeros in
                    let gtRows = g.baseAddress!
                    let predictionRows = p.baseAddress!
                    let edge = zeros.baseAddress!
                    func addEdge(rows: Range<Int>) {
                        for y in rows {
                            table.add(
                                gt: gtRows + y * w, prediction: predictionRows + y * w, interiorGT: edge,
                                interiorPrediction: edge)
                        }
                    }
                    guard 2 * d < w, 2 * d < h else { return addEdge(rows: 0..<h) }
                    addEdge(rows: 0..<d)
                    let onGT = InteriorSweep(width: w, reach: d)
                    let onPrediction = InteriorSweep(width: w, reach: d)
                    let evaluated = UInt8(k)
                    let none = UInt8(255)
                    for r in 0..<h {
                        let gtRow = gtRows + r * w
                        let predictionRow = predictionRows + r * w
                        onGT.next.update(from: gtRow, count: w)
                        // P_k counts only where the GT is an evaluated class: elsewhere the prediction is no class.
                        let masked = onPrediction.next
                        for x in 0..<w { masked[x] = predictionRow[x] | (gtRow[x] < evaluated ? 0 : none) }
                        let ready = onGT.advance()
                        _ = onPrediction.advance()
                        guard ready else { continue }
                        table.add(
                            gt: gtRow - d * w, prediction: predictionRow - d * w, interiorGT: onGT.interior,
                            interiorPrediction: onPrediction.interior)
                    }
                    addEdge(rows: (h - d)..<h)
                }
            }
        }
        table.spill()
        for c in 0..<k {
            intersections[c] += table.intersections[c]
            unions[c] += table.unions[c]
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

/// The interior of a label map, one row at a time, in O(width) memory: the
/// pixels whose (2d+1)-square stays inside the image and inside their own
/// label (every other pixel is on the boundary of its label's mask). Write a
/// row's labels into `next` and call `advance()`, top row first; once 2d+1
/// rows are in, each `advance()` makes `interior` hold row `fed - 1 - d`.
/// Needs 2d < width (else no pixel is interior).
final class InteriorSweep {
    let width: Int
    let reach: Int
    /// 2d: a pixel is interior when 2d consecutive neighbour pairs, across
    /// and down, hold its label.
    private let window: Int
    /// Where the next row's labels go before `advance()`.
    private(set) var next: UnsafeMutablePointer<UInt8>
    private var previous: UnsafeMutablePointer<UInt8>
    /// 1 where the row's span x-d ... x+d stays in the row and in the label.
    private var uniformNext: UnsafeMutablePointer<UInt8>
    private var uniformPrevious: UnsafeMutablePointer<UInt8>
    private let ping: UnsafeMutablePointer<UInt8>
    private let pong: UnsafeMutablePointer<UInt8>
    /// Per column, how many consecutive row pairs so far (at most 2d) join
    /// uniform spans of one label.
    private let run: UnsafeMutablePointer<UInt32>
    /// 255 where the row `d` above the last one fed is interior, else 0 (after `advance()` returned true).
    let interior: UnsafeMutablePointer<UInt8>
    private var fed = 0
    private let storage: UnsafeMutableRawPointer

    init(width: Int, reach: Int) {
        precondition(reach >= 1 && 2 * reach < width, "the (2d+1)-square must fit in a row")
        self.width = width
        self.reach = reach
        window = 2 * reach
        storage = .allocate(byteCount: width * (4 + 7), alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: width * (4 + 7))
        run = storage.assumingMemoryBound(to: UInt32.self)
        let bytes = (storage + 4 * width).assumingMemoryBound(to: UInt8.self)
        next = bytes
        previous = bytes + width
        uniformNext = bytes + 2 * width
        uniformPrevious = bytes + 3 * width
        ping = bytes + 4 * width
        pong = bytes + 5 * width
        interior = bytes + 6 * width
    }

    deinit { storage.deallocate() }

    /// Takes in the row written to `next`; true when `interior` holds a new row.
    func advance() -> Bool {
        uniformSpans(of: next, into: uniformNext)
        if fed > 0 { extendRuns() }
        fed += 1
        swap(&next, &previous)
        swap(&uniformNext, &uniformPrevious)
        guard fed > window else { return false }
        let limit = UInt32(window)
        let runs = run
        let out = interior
        for x in 0..<width { out[x] = runs[x] >= limit ? 255 : 0 }
        return true
    }

    /// uniform[x] = 1 iff the 2d neighbour pairs of x-d ... x+d all hold one
    /// label: a sliding AND over `same` pairs, by doubling the window (log2(2d)
    /// passes over the row, each vectorised); the d pixels at either end stay 0.
    private func uniformSpans(of row: UnsafeMutablePointer<UInt8>, into uniform: UnsafeMutablePointer<UInt8>) {
        let right = row + 1
        var spans = ping
        var other = pong
        for i in 0..<(width - 1) { spans[i] = row[i] == right[i] ? 1 : 0 }
        // spans[i] = 1 iff pairs i ..< i + length are all same, for i < width - length.
        var length = 1
        while 2 * length <= window {
            let shifted = spans + length
            for i in 0..<(width - 2 * length) { other[i] = spans[i] & shifted[i] }
            swap(&spans, &other)
            length *= 2
        }
        // The last step overlaps the two halves (AND is idempotent).
        let shifted = spans + (window - length)
        let target = uniform + reach
        for i in 0..<(width - window) { target[i] = spans[i] & shifted[i] }
    }

    /// Rows `previous` and `next` (the one just added): a column's run grows
    /// where both rows are uniform there and hold the same label, else
    /// restarts. Masks instead of branches, so the loop vectorises; a run
    /// counts at most the image's rows, so it does not wrap.
    private func extendRuns() {
        let above = previous
        let below = next
        let uniformAbove = uniformPrevious
        let uniformBelow = uniformNext
        let runs = run
        for x in 0..<width {
            let same: UInt32 = above[x] == below[x] ? 1 : 0
            let joined = UInt32(uniformAbove[x] & uniformBelow[x]) & same
            runs[x] = (runs[x] &+ 1) & (0 &- joined)
        }
    }
}

/// Boundary pixels counted by (GT class, predicted class): a (K+1) x (K+1)
/// table, class K standing for "not on a boundary of an evaluated class".
/// Intersections are its diagonal; a class's union is its row plus its
/// column minus the diagonal. The counting loops have no branches; UInt32
/// counts move to Int64 before they could wrap.
struct PairTable {
    let classes: Int
    private let stride: Int
    private var counts: [UInt32]
    private var pending = 0
    private(set) var intersections: [Int64]
    private(set) var unions: [Int64]
    /// One row's table indices, reused.
    private var indices: [UInt16]

    init(classes k: Int, width: Int) {
        classes = k
        stride = k + 1
        counts = [UInt32](repeating: 0, count: 4 * stride * stride)
        intersections = [Int64](repeating: 0, count: k)
        unions = intersections
        indices = [UInt16](repeating: 0, count: width)
    }

    /// Counts one row: `interiorGT` and `interiorPrediction` are 255 where a
    /// pixel is inside its label's mask (not on that boundary), else 0; the
    /// prediction counts only where the GT is an evaluated class. Classes are
    /// found with masks and `min` (vectorised); the counting goes to four
    /// tables in turn, so that runs of one cell do not wait on each other.
    mutating func add(
        gt: UnsafePointer<UInt8>, prediction: UnsafePointer<UInt8>, interiorGT: UnsafePointer<UInt8>,
        interiorPrediction: UnsafePointer<UInt8>
    ) {
        let w = indices.count
        if pending > Int(UInt32.max) - w { spill() }
        pending += w
        let none = UInt8(classes)
        let rowStride = UInt16(stride)
        let size = stride * stride
        indices.withUnsafeMutableBufferPointer { buffer in
            let index = buffer.baseAddress!
            for x in 0..<w {
                let g = gt[x]
                let ignored: UInt8 = g < none ? 0 : 255
                let gClass = min(g | interiorGT[x], none)
                let pClass = min(prediction[x] | interiorPrediction[x] | ignored, none)
                index[x] = UInt16(gClass) &* rowStride &+ UInt16(pClass)
            }
            counts.withUnsafeMutableBufferPointer { table in
                let first = table.baseAddress!
                let second = first + size
                let third = second + size
                let fourth = third + size
                let quads = w / 4
                for q in 0..<quads {
                    let at = index + 4 * q
                    first[Int(at[0])] &+= 1
                    second[Int(at[1])] &+= 1
                    third[Int(at[2])] &+= 1
                    fourth[Int(at[3])] &+= 1
                }
                for x in (4 * quads)..<w { first[Int(index[x])] &+= 1 }
            }
        }
    }

    /// Moves the UInt32 counts into the Int64 totals.
    mutating func spill() {
        let k = classes
        let size = stride * stride
        for g in 0...k {
            for p in 0...k {
                let cell = g * stride + p
                let n = (0..<4).reduce(Int64(0)) { $0 + Int64(counts[cell + $1 * size]) }
                if g < k { unions[g] += n }
                if p < k && p != g { unions[p] += n }
                if p == g && g < k { intersections[g] += n }
            }
        }
        for i in counts.indices { counts[i] = 0 }
        pending = 0
    }
}
