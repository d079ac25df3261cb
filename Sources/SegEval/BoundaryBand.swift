import SegLabels

/// Pixels near a class boundary of a label map. A pixel is on a boundary if
/// one of its 4 neighbours has another label (ignore counts as a label); the
/// band of width w holds every pixel within Chebyshev distance w of one.
public enum BoundaryBand {
    public static func boundary(_ map: LabelMap) -> [Bool] {
        let w = map.width, h = map.height
        var out = [Bool](repeating: false, count: w * h)
        map.ids.withUnsafeBufferPointer { ids in
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x, v = ids[i]
                    if (x + 1 < w && ids[i + 1] != v) || (y + 1 < h && ids[i + w] != v) {
                        out[i] = true
                        if x + 1 < w && ids[i + 1] != v { out[i + 1] = true }
                        if y + 1 < h && ids[i + w] != v { out[i + w] = true }
                    }
                }
            }
        }
        return out
    }

    /// The band mask: boundary pixels dilated by `width` (a square of side
    /// 2 * width + 1), computed as two separable running-window passes.
    public static func band(_ map: LabelMap, width: Int) -> [Bool] {
        dilate(boundary(map), width: map.width, height: map.height, radius: width)
    }

    public static func dilate(_ mask: [Bool], width w: Int, height h: Int, radius r: Int) -> [Bool] {
        guard r > 0 else { return mask }
        var horizontal = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            var last = Int.min / 2  // x of the most recent true pixel at or left of the window's right edge
            var nextTrue = [Int](repeating: Int.max / 2, count: w + 1)
            for x in stride(from: w - 1, through: 0, by: -1) { nextTrue[x] = mask[y * w + x] ? x : nextTrue[x + 1] }
            for x in 0..<w {
                if mask[y * w + x] { last = x }
                horizontal[y * w + x] = x - last <= r || nextTrue[x] - x <= r
            }
        }
        var out = [Bool](repeating: false, count: w * h)
        for x in 0..<w {
            var last = Int.min / 2
            var nextTrue = [Int](repeating: Int.max / 2, count: h + 1)
            for y in stride(from: h - 1, through: 0, by: -1) { nextTrue[y] = horizontal[y * w + x] ? y : nextTrue[y + 1] }
            for y in 0..<h {
                if horizontal[y * w + x] { last = y }
                out[y * w + x] = y - last <= r || nextTrue[y] - y <= r
            }
        }
        return out
    }

    /// Chebyshev distance of every pixel to the nearest boundary pixel (capped at `cap`).
    public static func distance(_ map: LabelMap, cap: Int) -> [UInt16] {
        let edge = boundary(map)
        var out = [UInt16](repeating: UInt16(cap), count: edge.count)
        for (i, e) in edge.enumerated() where e { out[i] = 0 }
        if cap == 0 { return out }
        // Two-pass chamfer transform with unit weights in 8 directions: exact for Chebyshev distance.
        let w = map.width, h = map.height
        for y in 0..<h {
            for x in 0..<w {
                var d = out[y * w + x]
                if x > 0 { d = min(d, out[y * w + x - 1] &+ 1) }
                if y > 0 {
                    d = min(d, out[(y - 1) * w + x] &+ 1)
                    if x > 0 { d = min(d, out[(y - 1) * w + x - 1] &+ 1) }
                    if x + 1 < w { d = min(d, out[(y - 1) * w + x + 1] &+ 1) }
                }
                out[y * w + x] = d
            }
        }
        for y in stride(from: h - 1, through: 0, by: -1) {
            for x in stride(from: w - 1, through: 0, by: -1) {
                var d = out[y * w + x]
                if x + 1 < w { d = min(d, out[y * w + x + 1] &+ 1) }
                if y + 1 < h {
                    d = min(d, out[(y + 1) * w + x] &+ 1)
                    if x + 1 < w { d = min(d, out[(y + 1) * w + x + 1] &+ 1) }
                    if x > 0 { d = min(d, out[(y + 1) * w + x - 1] &+ 1) }
                }
                out[y * w + x] = d
            }
        }
        return out
    }
}

/// How a method's predictions differ from a reference's, pixel by pixel,
/// on pixels with a valid ground truth.
public struct FlipCounts: Sendable, Equatable {
    /// Reference wrong, method right.
    public var fixed: Int64 = 0
    /// Reference right, method wrong.
    public var broken: Int64 = 0
    /// Both wrong, with different predictions.
    public var changedWrong: Int64 = 0

    public init() {}

    public enum Kind: Sendable { case unchanged, fixed, broken, changedWrong }

    @inline(__always)
    public static func classify(gt: UInt8, reference: UInt8, method: UInt8) -> Kind {
        if gt == LabelSpace.ignore || reference == method { return .unchanged }
        if reference == gt { return .broken }
        if method == gt { return .fixed }
        return .changedWrong
    }

    public mutating func add(groundTruth: LabelMap, reference: LabelMap, method: LabelMap, mask: [Bool]? = nil) {
        for i in groundTruth.ids.indices where mask?[i] ?? true {
            switch FlipCounts.classify(gt: groundTruth.ids[i], reference: reference.ids[i], method: method.ids[i]) {
            case .fixed: fixed += 1
            case .broken: broken += 1
            case .changedWrong: changedWrong += 1
            case .unchanged: break
            }
        }
    }

    public mutating func merge(_ other: FlipCounts) {
        fixed += other.fixed
        broken += other.broken
        changedWrong += other.changedWrong
    }
}
