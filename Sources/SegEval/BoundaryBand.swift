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
    /// 2 * width + 1). One sweep down the rows in O(width) memory: a row's
    /// boundary marks, widened along the row by doubling (log2 passes, each
    /// vectorised), then per column the rows since the last widened mark;
    /// a pixel is in the band when that mark is within `width` rows of it.
    public static func band(_ map: LabelMap, width: Int) -> [Bool] {
        let w = map.width
        let h = map.height
        guard w > 0, h > 0 else { return [] }
        // A square wider than the image reaches as far as one as wide as it;
        // a negative width is none.
        let across = min(max(0, width), w)
        let down = min(max(0, width), h)
        let limit = UInt32(2 * down)
        // rowsSince[x]: input rows since column x last had a widened mark (limit + 1: none in reach).
        var rowsSince = [UInt32](repeating: limit + 1, count: w)
        // marks: the row's boundary marks with `across` zeros each side; spans, other: doubling scratch.
        var scratch = [UInt8](repeating: 0, count: 3 * (w + 2 * across))
        return [Bool](unsafeUninitializedCapacity: w * h) { out, count in
            map.ids.withUnsafeBufferPointer { ids in
                scratch.withUnsafeMutableBufferPointer { bytes in
                    rowsSince.withUnsafeMutableBufferPointer { since in
                        let padded = w + 2 * across
                        let marks = bytes.baseAddress!
                        let row = marks + across
                        var spans = marks + padded
                        var other = spans + padded
                        let age = since.baseAddress!
                        let labels = ids.baseAddress!
                        let band = out.baseAddress!
                        func emit(_ y: Int) {
                            let target = band + y * w
                            for x in 0..<w { target[x] = age[x] <= limit }
                        }
                        for j in 0..<(h + down) {
                            if j < h {
                                edgeRow(labels + j * w, width: w, hasAbove: j > 0, hasBelow: j < h - 1, into: row)
                                // spans[i] = OR of marks[i ..< i + length], for i < padded - length + 1.
                                var length = 1
                                spans.update(from: marks, count: padded)
                                while 2 * length <= 2 * across + 1 {
                                    let shifted = spans + length
                                    for i in 0..<(padded - 2 * length + 1) { other[i] = spans[i] | shifted[i] }
                                    swap(&spans, &other)
                                    length *= 2
                                }
                                // The last step overlaps its halves (OR is idempotent).
                                let shifted = spans + (2 * across + 1 - length)
                                for x in 0..<w {
                                    let marked = UInt32(spans[x] | shifted[x])
                                    age[x] = min(age[x] &+ 1, limit &+ 1) & (marked &- 1)
                                }
                            } else {
                                for x in 0..<w { age[x] = min(age[x] &+ 1, limit &+ 1) }
                            }
                            if j >= down { emit(j - down) }
                        }
                    }
                }
            }
            count = w * h
        }
    }

    /// One row's boundary marks (1 where a 4-neighbour has another label).
    private static func edgeRow(
        _ row: UnsafePointer<UInt8>, width w: Int, hasAbove: Bool, hasBelow: Bool,
        into marks: UnsafeMutablePointer<UInt8>
    ) {
        marks[0] = 0
        if w > 1 {
            // marks[x + 1] |= row[x] != row[x + 1], then marks[x] the same.
            let right = row + 1
            let target = marks + 1
            for x in 0..<(w - 1) { target[x] = row[x] != right[x] ? 1 : 0 }
            for x in 0..<(w - 1) { marks[x] |= row[x] != right[x] ? 1 : 0 }
        }
        if hasAbove {
            let above = row - w
            for x in 0..<w { marks[x] |= row[x] != above[x] ? 1 : 0 }
        }
        if hasBelow {
            let below = row + w
            for x in 0..<w { marks[x] |= row[x] != below[x] ? 1 : 0 }
        }
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
