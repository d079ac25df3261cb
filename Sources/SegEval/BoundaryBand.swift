import SegLabels

/// Pixels near a class boundary of a label map. A pixel is on a boundary if
/// one of its 4 neighbours has another label (ignore counts as a label); the
/// band of width w holds every pixel within Chebyshev distance w of one.
public enum BoundaryBand {
    public static func boundary(_ map: LabelMap) -> [Bool] { booleans(boundaryBytes(map)) }

    /// Boundary marks as 0/1 bytes. Loops index offset pointers with the
    /// loop counter only (no index arithmetic to overflow-check), so the
    /// compiler vectorises them.
    static func boundaryBytes(_ map: LabelMap) -> [UInt8] {
        let w = map.width
        let h = map.height
        let n = w * h
        var edge = [UInt8](repeating: 0, count: n)
        guard n > 0 else { return edge }
        // differs[i] = 1 where pixel i and its right (then lower) neighbour
        // differ; both pixels of such a pair are on the boundary.
        var differs = [UInt8](repeating: 0, count: n)
        map.ids.withUnsafeBufferPointer { ids in
            edge.withUnsafeMutableBufferPointer { e in
                differs.withUnsafeMutableBufferPointer { d in
                    let source = ids.baseAddress!
                    let marks = e.baseAddress!
                    let diff = d.baseAddress!
                    let next = source + 1
                    for i in 0..<(n - 1) { diff[i] = source[i] != next[i] ? 1 : 0 }
                    for y in 0..<h { diff[y * w + w - 1] = 0 }  // no right neighbour across rows
                    let previous = diff - 1
                    marks[0] = diff[0]
                    for i in 1..<n { marks[i] = diff[i] | previous[i] }
                    let below = source + w
                    for i in 0..<(n - w) { diff[i] = source[i] != below[i] ? 1 : 0 }
                    let above = diff - w
                    for i in 0..<min(w, n - w) { marks[i] |= diff[i] }
                    if n > w {
                        let lastStart = max(w, n - w)
                        for i in w..<lastStart { marks[i] |= diff[i] | above[i] }
                        for i in lastStart..<n { marks[i] |= above[i] }
                    }
                }
            }
        }
        return edge
    }

    /// The band mask: boundary pixels dilated by `width` (a square of side
    /// 2 * width + 1).
    public static func band(_ map: LabelMap, width: Int) -> [Bool] {
        var marks = boundaryBytes(map)
        dilate(&marks, width: map.width, height: map.height, radius: width)
        return booleans(marks)
    }

    /// 0/1 bytes as Bools, in one vectorisable pass.
    static func booleans(_ bytes: [UInt8]) -> [Bool] {
        [Bool](unsafeUninitializedCapacity: bytes.count) { out, n in
            bytes.withUnsafeBufferPointer { b in
                let source = b.baseAddress!
                let target = out.baseAddress!
                for i in 0..<b.count { target[i] = source[i] != 0 }
            }
            n = bytes.count
        }
    }

    /// Square dilation of 0/1 bytes: `radius` one-pixel steps horizontally,
    /// then vertically; every step is an OR of shifted copies over offset
    /// pointers (vectorised).
    static func dilate(_ marks: inout [UInt8], width w: Int, height h: Int, radius r: Int) {
        guard r > 0, w > 0, h > 0 else { return }
        let n = w * h
        var other = [UInt8](repeating: 0, count: n)
        for _ in 0..<(w > 1 ? r : 0) {
            marks.withUnsafeBufferPointer { a in
                other.withUnsafeMutableBufferPointer { o in
                    for y in 0..<h {
                        let source = a.baseAddress! + y * w
                        let out = o.baseAddress! + y * w
                        out[0] = source[0] | source[1]
                        out[w - 1] = source[w - 1] | source[w - 2]
                        let left = source
                        let middle = source + 1
                        let right = source + 2
                        let target = out + 1
                        for x in 0..<(w - 2) { target[x] = left[x] | middle[x] | right[x] }
                    }
                }
            }
            swap(&marks, &other)
        }
        for _ in 0..<(h > 1 ? r : 0) {
            marks.withUnsafeBufferPointer { a in
                other.withUnsafeMutableBufferPointer { o in
                    let source = a.baseAddress!
                    let out = o.baseAddress!
                    let lastRow = source + (n - w)
                    let beforeLast = source + (n - 2 * w)
                    let outLast = out + (n - w)
                    let second = source + w
                    for x in 0..<w {
                        out[x] = source[x] | second[x]
                        outLast[x] = lastRow[x] | beforeLast[x]
                    }
                    let up = source
                    let middle = source + w
                    let down = source + 2 * w
                    let target = out + w
                    for i in 0..<(n - 2 * w) { target[i] = up[i] | middle[i] | down[i] }
                }
            }
            swap(&marks, &other)
        }
    }

    /// Chebyshev distance of every pixel to the nearest boundary pixel
    /// (capped at `cap`): a two-pass chamfer transform with unit weights in 8
    /// directions, which is exact for this distance. Each pass first takes the
    /// three neighbours of the previous row (vectorised over the row), then
    /// the one in the same row (a scan).
    public static func distance(_ map: LabelMap, cap: Int) -> [UInt16] {
        let w = map.width
        let h = map.height
        let edge = boundaryBytes(map)
        let limit = UInt16(cap)
        var out = [UInt16](repeating: limit, count: w * h)
        guard w > 0, h > 0 else { return out }
        edge.withUnsafeBufferPointer { e in
            out.withUnsafeMutableBufferPointer { o in
                let marks = e.baseAddress!
                let d = o.baseAddress!
                for i in 0..<(w * h) where marks[i] != 0 { d[i] = 0 }
                guard cap > 0 else { return }
                func fromRow(_ row: UnsafeMutablePointer<UInt16>, _ other: UnsafeMutablePointer<UInt16>) {
                    row[0] = min(row[0], other[0] &+ 1, w > 1 ? other[1] &+ 1 : limit)
                    if w > 1 { row[w - 1] = min(row[w - 1], other[w - 1] &+ 1, other[w - 2] &+ 1) }
                    let left = other
                    let middle = other + 1
                    let right = other + 2
                    let target = row + 1
                    for x in 0..<max(0, w - 2) {
                        target[x] = min(target[x], left[x] &+ 1, middle[x] &+ 1, right[x] &+ 1)
                    }
                }
                for y in 0..<h {
                    let row = d + y * w
                    if y > 0 { fromRow(row, row - w) }
                    for x in 1..<max(1, w) { row[x] = min(row[x], row[x - 1] &+ 1) }
                }
                for y in stride(from: h - 1, through: 0, by: -1) {
                    let row = d + y * w
                    if y + 1 < h { fromRow(row, row + w) }
                    for x in stride(from: w - 2, through: 0, by: -1) { row[x] = min(row[x], row[x + 1] &+ 1) }
                }
                for i in 0..<(w * h) { d[i] = min(d[i], limit) }
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
        var counts = (fixed: Int64(0), broken: Int64(0), changed: Int64(0))
        groundTruth.ids.withUnsafeBufferPointer { gt in
            reference.ids.withUnsafeBufferPointer { ref in
                method.ids.withUnsafeBufferPointer { other in
                    for i in 0..<gt.count where mask?[i] ?? true {
                        switch FlipCounts.classify(gt: gt[i], reference: ref[i], method: other[i]) {
                        case .fixed: counts.fixed += 1
                        case .broken: counts.broken += 1
                        case .changedWrong: counts.changed += 1
                        case .unchanged: break
                        }
                    }
                }
            }
        }
        fixed += counts.fixed
        broken += counts.broken
        changedWrong += counts.changed
    }

    public mutating func merge(_ other: FlipCounts) {
        fixed += other.fixed
        broken += other.broken
        changedWrong += other.changedWrong
    }
}
