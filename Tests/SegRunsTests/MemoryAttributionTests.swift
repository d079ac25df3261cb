import Foundation
import SegEngine
import SegFormats
import SegLabels
import SegRuns
import SegTestSupport
import Testing

/// The fixed/broken table of MAR against a plain twin written here (Reference's upsampling and memory
/// masses, a band by brute force, float64 means): counts exactly equal, mean masses within 1e-6.
@Suite struct MemoryAttributionTests {
    static let fixture = TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/small"
    static let tolerance = 1e-6

    struct Frame {
        let window: [FeatureMap]
        let groundTruth: LabelMap
    }

    static func maps() throws -> [FeatureMap] {
        try ["prev", "cur", "next"].map { try FeatureMap.read(path: "\(fixture)/\($0).npy") }
    }

    /// A frame whose ground truth is MAR's prediction on the left half and the reference's (STF's) on the
    /// right, with an ignore column between: MAR fixes pixels on the left and breaks some on the right.
    static func frame(_ model: Model, _ window: [FeatureMap]) throws -> Frame {
        let c = window[1]
        let outputs = try model.forward(
            previous: window[0].values, current: c.values, next: window[2].values, height: c.height, width: c.width)
        let labels = { (stage: Stage) in
            upsampledPrediction(
                logits: outputs.logits(stage)!, classes: model.classes, height: c.height, width: c.width, factor: 8
            ).labels
        }
        let (stf, mar) = (labels(.stf), labels(.mar))
        let (h, w) = (c.height * 8, c.width * 8)
        var ids = [UInt8](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                ids[i] = x < w / 2 - 2 ? mar[i] : x < w / 2 + 2 ? LabelSpace.ignore : stf[i]
            }
        }
        return Frame(window: window, groundTruth: LabelMap(width: w, height: h, ids: ids))
    }

    static func table(_ model: Model, _ frame: Frame, bandWidth: Int = 3, reference: Stage? = nil) throws
        -> MemoryAttribution
    {
        try MemoryAttribution.frame(
            model: model, previous: frame.window[0], current: frame.window[1], next: frame.window[2],
            groundTruth: frame.groundTruth, bandWidth: bandWidth, reference: reference)
    }

    /// Per GT class: (fixed pixels, summed truth mass, summed wrong mass, broken pixels, sums), by plain loops.
    static func twin(_ model: Model, _ frames: [Frame], band: Int) throws -> [[Double]] {
        let k = model.classes
        var table = [[Double]](repeating: [Double](repeating: 0, count: 6), count: k)
        for frame in frames {
            let c = frame.window[1]
            let (h, w) = (c.height, c.width)
            let outputs = try model.forward(
                previous: frame.window[0].values, current: c.values, next: frame.window[2].values, height: h, width: w)
            let masses = Reference.memoryClassMasses(model: model, marInput: outputs.stf!, height: h, width: w)
            let before = Reference.upsampledPrediction(
                logits: outputs.stfLogits!, classes: k, height: h, width: w, factor: 8
            ).labels
            let after = Reference.upsampledPrediction(
                logits: outputs.marLogits!, classes: k, height: h, width: w, factor: 8
            ).labels
            let gt = frame.groundTruth
            let (fh, fw) = (gt.height, gt.width)
            func id(_ y: Int, _ x: Int) -> UInt8 { gt.ids[y * fw + x] }
            func onBoundary(_ y: Int, _ x: Int) -> Bool {
                [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)].contains { v, u in
                    v >= 0 && v < fh && u >= 0 && u < fw && id(v, u) != id(y, x)
                }
            }
            for y in 0..<fh {
                for x in 0..<fw {
                    let truth = id(y, x)
                    guard truth != LabelSpace.ignore else { continue }
                    var inBand = false
                    for v in max(0, y - band)...min(fh - 1, y + band) {
                        for u in max(0, x - band)...min(fw - 1, x + band) where onBoundary(v, u) { inBand = true }
                    }
                    let (r, m) = (before[y * fw + x], after[y * fw + x])
                    guard inBand, (r == truth) != (m == truth) else { continue }
                    let token = (y / 8) * w + x / 8
                    let wrong = Int(r == truth ? m : r)
                    let column = r == truth ? 3 : 0
                    table[Int(truth)][column] += 1
                    table[Int(truth)][column + 1] += Double(masses[token * k + Int(truth)])
                    table[Int(truth)][column + 2] += Double(masses[token * k + wrong])
                }
            }
        }
        return table
    }

    /// Compares a table with the twin's sums: counts exactly, means within the tolerance.
    static func check(_ table: MemoryAttribution, _ twin: [[Double]]) {
        var seen = Set<Int>()
        for row in table.rows {
            guard let k = row.classIndex else { continue }
            seen.insert(k)
            for (part, column) in [(row.fixed, 0), (row.broken, 3)] {
                #expect(Double(part.pixels) == twin[k][column], "class \(k) pixels")
                if part.pixels > 0 {
                    #expect(abs(part.truthMass! - twin[k][column + 1] / twin[k][column]) <= tolerance)
                    #expect(abs(part.wrongMass! - twin[k][column + 2] / twin[k][column]) <= tolerance)
                } else {
                    #expect(part.truthMass == nil && part.wrongMass == nil)
                }
            }
        }
        #expect(seen == Set(twin.indices.filter { twin[$0][0] + twin[$0][3] > 0 }), "rows of classes with pixels")
        let total = table.total
        #expect(total.classIndex == nil)
        #expect(Double(total.fixed.pixels) == twin.reduce(0) { $0 + $1[0] })
        #expect(Double(total.broken.pixels) == twin.reduce(0) { $0 + $1[3] })
        let fixedTruth = twin.reduce(0) { $0 + $1[1] } / Double(total.fixed.pixels)
        #expect(abs(total.fixed.truthMass! - fixedTruth) <= tolerance)
    }

    @Test func oneFrameEqualsThePlainTwin() throws {
        let model = try Model.load(path: Self.fixture + "/weights.safetensors")
        let f = try Self.maps()
        let frame = try Self.frame(model, [f[0], f[1], f[2]])
        for band in [1, 3] {
            let table = try Self.table(model, frame, bandWidth: band)
            #expect(table.reference == .stf && table.frames == 1 && table.bandWidth == band)
            #expect(table.total.fixed.pixels > 0 && table.total.broken.pixels > 0, "the frame has both kinds")
            Self.check(table, try Self.twin(model, [frame], band: band))
        }
    }

    /// Two frames' tables merged (either order) equal the twin over both, and each other exactly.
    @Test func mergingFramesEqualsTheTableOverBoth() throws {
        let model = try Model.load(path: Self.fixture + "/weights.safetensors")
        let f = try Self.maps()
        let frames = [
            try Self.frame(model, [f[0], f[1], f[2]]),
            try Self.frame(model, [f[1], f[2], f[0]]),
        ]
        let tables = try frames.map { try Self.table(model, $0) }
        var forward = MemoryAttribution(classes: model.classes, bandWidth: 3, reference: .stf)
        try forward.merge(tables[0])
        try forward.merge(tables[1])
        forward.countSkippedFrame()
        var backward = tables[1]
        try backward.merge(tables[0])
        backward.countSkippedFrame()
        #expect(forward == backward)
        #expect(forward.frames == 2 && forward.framesWithoutGroundTruth == 1)
        #expect(forward.total.fixed.pixels == tables[0].total.fixed.pixels + tables[1].total.fixed.pixels)
        Self.check(forward, try Self.twin(model, frames, band: 3))
    }

    @Test func refusesMismatchedTablesAndReferences() throws {
        let model = try Model.load(path: Self.fixture + "/weights.safetensors")
        var table = MemoryAttribution(classes: model.classes, bandWidth: 3, reference: .stf)
        #expect(throws: MemoryAttributionError.self) {
            try table.merge(MemoryAttribution(classes: model.classes, bandWidth: 2, reference: .stf))
        }
        #expect(throws: MemoryAttributionError.self) {
            try table.merge(MemoryAttribution(classes: model.classes, bandWidth: 3, reference: .baseline))
        }
        let f = try Self.maps()
        let frame = try Self.frame(model, [f[0], f[1], f[2]])
        #expect(throws: RunError.self) {
            try Self.table(model, frame, reference: .mar)
        }
        let small = LabelMap(width: 8, height: 8, ids: [UInt8](repeating: 0, count: 64))
        #expect(throws: RunError.self) {
            try Self.table(model, Frame(window: frame.window, groundTruth: small))
        }
        let baseline = try Self.table(model, frame, reference: .baseline)
        #expect(baseline.reference == .baseline)
    }
}
