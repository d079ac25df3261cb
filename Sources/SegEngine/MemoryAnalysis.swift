import SegFormats
import SegLabels

/// What `segscope memory inspect` reports about a memory.
public struct MemoryAnalysis: Sendable {
    public let bank: MemoryBank
    /// Mean L2 norm of each class's keys, and each prototype's norm.
    public let keyNorms: [Double], prototypeNorms: [Double]
    /// Cosine similarity between prototypes [K][K].
    public let cosine: [[Double]]
    /// For each key row, the class of the prototype nearest by cosine.
    public let nearest: [Int]
    /// 2-D PCA coordinates of the keys (rows) and of the prototypes.
    public let keyPoints: [(Double, Double)], prototypePoints: [(Double, Double)]

    public init(_ bank: MemoryBank) {
        self.bank = bank
        let c = bank.channels
        let k = bank.classes
        let per = bank.perClass
        func row(_ data: [Float], _ i: Int) -> ArraySlice<Float> { data[(i * c)..<((i + 1) * c)] }
        func norm(_ v: ArraySlice<Float>) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
            zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        prototypeNorms = (0..<k).map { norm(row(bank.prototypes, $0)) }
        keyNorms = (0..<k).map { cls in
            (0..<per).map { norm(row(bank.keys, cls * per + $0)) }.reduce(0, +) / Double(per)
        }
        let protoNorms = prototypeNorms
        cosine = (0..<k).map { a in
            (0..<k).map { b in
                dot(row(bank.prototypes, a), row(bank.prototypes, b)) / max(1e-12, protoNorms[a] * protoNorms[b])
            }
        }
        nearest = (0..<(k * per)).map { i in
            let key = row(bank.keys, i)
            let keyNorm = max(1e-12, norm(key))
            return (0..<k).max { a, b in
                dot(key, row(bank.prototypes, a)) / (keyNorm * max(1e-12, protoNorms[a]))
                    < dot(key, row(bank.prototypes, b)) / (keyNorm * max(1e-12, protoNorms[b]))
            }!
        }
        // PCA of keys and prototypes together: top two eigenvectors of the
        // covariance by power iteration from a fixed start (deterministic).
        let points =
            (0..<(k * per)).map { Array(row(bank.keys, $0)).map(Double.init) }
            + (0..<k).map { Array(row(bank.prototypes, $0)).map(Double.init) }
        let mean = (0..<c).map { ch in points.reduce(0) { $0 + $1[ch] } / Double(points.count) }
        let centered = points.map { p in zip(p, mean).map { $0 - $1 } }
        func covarianceTimes(_ v: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: c)
            for p in centered {
                let projection = zip(p, v).reduce(0) { $0 + $1.0 * $1.1 }
                for ch in 0..<c { out[ch] += projection * p[ch] }
            }
            return out
        }
        func normalized(_ v: [Double]) -> [Double] {
            let n = max(1e-300, v.reduce(0) { $0 + $1 * $1 }.squareRoot())
            return v.map { $0 / n }
        }
        var first = normalized((0..<c).map { 1 + Double($0 % 7) / 7 })
        for _ in 0..<200 { first = normalized(covarianceTimes(first)) }
        var second = normalized((0..<c).map { Double(($0 * 5) % 11) - 5 })
        for _ in 0..<200 {
            var v = covarianceTimes(second)
            let along = zip(v, first).reduce(0) { $0 + $1.0 * $1.1 }
            v = zip(v, first).map { $0 - along * $1 }
            second = normalized(v)
        }
        let projected = centered.map { p in
            (zip(p, first).reduce(0) { $0 + $1.0 * $1.1 }, zip(p, second).reduce(0) { $0 + $1.0 * $1.1 })
        }
        keyPoints = Array(projected.prefix(k * per))
        prototypePoints = Array(projected.suffix(k))
    }

    public var nearestOwn: [Int] {
        (0..<bank.classes).map { cls in (0..<bank.perClass).filter { nearest[cls * bank.perClass + $0] == cls }.count }
    }

    /// The most similar prototype pairs, most similar first.
    public func confusablePairs(_ count: Int) -> [(Int, Int, Double)] {
        var pairs: [(Int, Int, Double)] = []
        for a in 0..<bank.classes { for b in (a + 1)..<max(a + 1, bank.classes) { pairs.append((a, b, cosine[a][b])) } }
        return Array(pairs.sorted { $0.2 > $1.2 }.prefix(count))
    }

    public func json(names: [String]) -> JSONValue {
        func number(_ v: Double) -> JSONValue { .number((v * 1e6).rounded() / 1e6) }
        let own = nearestOwn
        var members: [(String, JSONValue)] = []
        members.append(("classes", .number(Double(bank.classes))))
        members.append(("keys_per_class", .number(Double(bank.perClass))))
        members.append(("channels", .number(Double(bank.channels))))
        members.append(("class_names", .array(names.map { JSONValue.string($0) })))
        let keyNorm: [(String, JSONValue)] = zip(names, keyNorms).map { ($0, number($1)) }
        members.append(("key_norm", .object(keyNorm)))
        let prototypeNorm: [(String, JSONValue)] = zip(names, prototypeNorms).map { ($0, number($1)) }
        members.append(("prototype_norm", .object(prototypeNorm)))
        let matrix: [JSONValue] = cosine.map { JSONValue.array($0.map(number)) }
        members.append(("cosine", .array(matrix)))
        let pairs: [JSONValue] = confusablePairs(10).map {
            JSONValue.array([.string(names[$0.0]), .string(names[$0.1]), number($0.2)])
        }
        members.append(("confusable", .array(pairs)))
        let ownCounts: [(String, JSONValue)] = zip(names, own).map { ($0, .number(Double($1))) }
        members.append(("nearest_own", .object(ownCounts)))
        members.append(("nearest_own_total", .number(Double(own.reduce(0, +)))))
        members.append(("keys", .number(Double(bank.classes * bank.perClass))))
        let keys: [JSONValue] = keyPoints.map { JSONValue.array([number($0.0), number($0.1)]) }
        let prototypes: [JSONValue] = prototypePoints.map { JSONValue.array([number($0.0), number($0.1)]) }
        members.append(("pca", .object([("keys", .array(keys)), ("prototypes", .array(prototypes))])))
        return .object(members)
    }

    /// A text report; with a colouring `style`, `colors` (class colours)
    /// colour the heatmap and the scatter.
    public func text(names: [String], colors: [RGB]?, style: any TextStyling) -> String {
        let k = bank.classes
        let per = bank.perClass
        let own = nearestOwn
        let total = own.reduce(0, +)
        var out = "Memory: \(k) classes x \(per) keys, \(bank.channels) channels\n"
        let percent = Double(total) / Double(k * per) * 100
        out +=
            "Keys nearest (cosine) to their own class's prototype: \(total)/\(k * per) (\(String(format: "%.1f", percent))%)\n\n"
        let width = max(5, names.map(\.count).max() ?? 5)
        out +=
            "class".padding(toLength: width, withPad: " ", startingAt: 0)
            + "  keys  protos  key norm  proto norm  own-nearest\n"
        for cls in 0..<k {
            out += names[cls].padding(toLength: width, withPad: " ", startingAt: 0)
            out += String(
                format: "  %4d  %6d  %8.2f  %10.2f  %5d/%d\n", per, 1, keyNorms[cls], prototypeNorms[cls], own[cls], per
            )
        }
        out += "\nMost similar prototypes (cosine):\n"
        for (a, b, v) in confusablePairs(5) { out += "  \(names[a]) / \(names[b]): \(String(format: "%.3f", v))\n" }
        out += "\nPrototype cosine similarity (rows and columns in class order; darker = less similar)\n"
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        for a in 0..<k {
            out += String(names[a].prefix(12)).padding(toLength: 13, withPad: " ", startingAt: 0)
            for b in 0..<k {
                let v = max(0, min(1, (cosine[a][b] + 1) / 2))
                if style.colored {
                    let level = UInt8(v * 255)
                    out += style.background("  ", RGB(level, level, level))
                } else {
                    let s = shades[min(4, Int(v * 5))]
                    out += String([s, s])
                }
            }
            out += "\n"
        }
        out +=
            "\nPCA of keys (·) and prototypes (◆), class by colour"
            + (style.colored && colors != nil ? "" : " (letters: class a, b, ...)") + "\n"
        out += scatter(colors: colors, style: style)
        return out
    }

    func scatter(colors: [RGB]?, style: any TextStyling) -> String {
        let columns = 72
        let rows = 22
        let all = keyPoints + prototypePoints
        let xs = all.map(\.0)
        let ys = all.map(\.1)
        let (x0, x1, y0, y1) = (xs.min()!, xs.max()!, ys.min()!, ys.max()!)
        var cells = [[(Character, Int)?]](repeating: [(Character, Int)?](repeating: nil, count: columns), count: rows)
        func place(_ p: (Double, Double), _ glyph: Character, _ cls: Int) {
            let cx = Int((p.0 - x0) / max(1e-12, x1 - x0) * Double(columns - 1))
            let cy = rows - 1 - Int((p.1 - y0) / max(1e-12, y1 - y0) * Double(rows - 1))
            if glyph == "◆" || cells[cy][cx] == nil { cells[cy][cx] = (glyph, cls) }
        }
        for (i, p) in keyPoints.enumerated() { place(p, "·", i / bank.perClass) }
        for (cls, p) in prototypePoints.enumerated() { place(p, "◆", cls) }
        var out = ""
        for row in cells {
            for cell in row {
                guard let (glyph, cls) = cell else {
                    out += " "
                    continue
                }
                if style.colored, let colors {
                    out += style.foreground(String(glyph), colors[cls], bold: true)
                } else {
                    let letter = Character(Unicode.Scalar(UInt8(97 + cls % 26)))
                    out.append(glyph == "◆" ? Character(letter.uppercased()) : letter)
                }
            }
            out += "\n"
        }
        return out
    }
}
