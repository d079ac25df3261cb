import SegDataset
import SegLabels
import SegTestSupport
import Testing

@testable import SegEval

@Suite struct TemporalTests {
    /// Windows equal when their figures are the same numbers (NaN equal to NaN: no stable pixel).
    static func same(_ a: [VCWindow], _ b: [VCWindow]) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.count == b.count
            && zip(a, b).allSatisfy {
                $0.video == $1.video && $0.start == $1.start && same($0.vspw, $1.vspw) && same($0.strict, $1.strict)
            }
    }

    /// The forward pass (runs ending at each frame, capped, counted in
    /// blocks of pixels) against the plain backward twin, exactly: random
    /// sizes (1xN, Nx1 included), frame counts, window lengths, class counts,
    /// void and out-of-range ids, labels that mostly persist so that windows
    /// have stable pixels, and blocks from one pixel up.
    @Test func vcStreamEqualsThePlainTwin() {
        var rng = BoundaryIoUSweepTests.SplitMix(state: 23)
        var windowsWithStablePixels = 0
        for trial in 0..<300 {
            let (w, h) = (Int.random(in: 1...9, using: &rng), Int.random(in: 1...7, using: &rng))
            let frames = Int.random(in: 3...20, using: &rng)
            let k = Int.random(in: 1...5, using: &rng)
            let values: [UInt8] = [0, 1, 2, 3, 4, 5, 200, 255].filter { _ in Bool.random(using: &rng) } + [0]
            let change = Double.random(in: 0...0.6, using: &rng)
            func video(from first: [UInt8]) -> [LabelMap] {
                var ids = first
                return (0..<frames).map { _ in
                    for i in ids.indices where Double.random(in: 0..<1, using: &rng) < change {
                        ids[i] = values.randomElement(using: &rng)!
                    }
                    return LabelMap(width: w, height: h, ids: ids)
                }
            }
            let start = (0..<(w * h)).map { _ in values.randomElement(using: &rng)! }
            let truths = video(from: start)
            // Predictions start near the GT so that the strict variant counts matches.
            let predictions = video(
                from: start.map { Bool.random(using: &rng) ? $0 : values.randomElement(using: &rng)! })
            let lengths = Array(Set((0..<3).map { _ in Int.random(in: 2...(frames - 1), using: &rng) })).sorted()
            let keys = (0..<frames).map { "f\($0)" }
            let block = Int.random(in: 1...(w * h), using: &rng)
            var truthRuns = RunLengths(pixels: w * h, cap: lengths.last!, blockMinimum: block)
            var stream = VCStream(
                lengths: lengths, frames: frames, classes: k, video: "v", pixels: w * h, blockMinimum: block)
            for e in 0..<frames {
                truthRuns.extend(with: truths[e])
                stream.add(truth: truths[e], truthRuns: truthRuns, prediction: predictions[e], index: e, keys: keys)
            }
            for n in lengths {
                let twin = Temporal.referenceWindows(
                    truths: truths, predictions: predictions, n: n, video: "v", keys: keys, classes: k)
                #expect(twin.count == frames - n, "trial \(trial): F-n windows")
                #expect(Self.same(stream.windows[n] ?? [], twin), "trial \(trial): \(w)x\(h) F=\(frames) n=\(n)")
                windowsWithStablePixels += twin.filter { !$0.vspw.isNaN && $0.vspw > 0 && $0.vspw < 1 }.count
            }
        }
        #expect(windowsWithStablePixels > 100, "the trials reach windows with some but not all pixels stable")
    }

    /// Changed pixels in blocks against a plain count.
    @Test func flickerCountEqualsThePlainCount() {
        var rng = BoundaryIoUSweepTests.SplitMix(state: 7)
        for _ in 0..<200 {
            let count = Int.random(in: 0...300, using: &rng)
            let a = (0..<count).map { _ in UInt8.random(in: 0...3, using: &rng) }
            let b = (0..<count).map { _ in UInt8.random(in: 0...3, using: &rng) }
            let plain = zip(a, b).filter { $0 != $1 }.count
            #expect(PixelBlocks.changed(a, b, minimum: Int.random(in: 1...64, using: &rng)) == plain)
        }
    }

    /// A whole sequence through `Temporal.frames` (files decoded once, in
    /// parallel, flicker and every window length from one pass) against the
    /// twin on the same decoded maps: flicker pairs and every window equal,
    /// not only close.
    @Test func sequencesEqualTheTwinOnDecodedFiles() throws {
        let root = try VSPWData.make()
        let dataset = try VSPWData.dataset(root)
        let loader = FrameLoader(dataset: dataset)
        var windowsCompared = 0
        for sequence in dataset.sequences {
            let outcome = Temporal.frames(
                sequence.frames, name: sequence.name, loader: loader, methods: dataset.methods,
                classes: dataset.space.count, vcLengths: [8, 16])
            #expect(outcome.unreadable.isEmpty && outcome.notes.isEmpty)
            let truths = try sequence.frames.map { try loader.groundTruth($0)!.map }
            let keys = sequence.frames.map(\.key)
            for method in dataset.methods {
                let predictions = try zip(sequence.frames, truths).map { frame, gt in
                    try loader.prediction(frame, method: method, size: (gt.width, gt.height))!.map
                }
                let counts = try #require(outcome.counts[method])
                var pairs: [FlickerPair] = []
                for t in 0..<(predictions.count - 1) {
                    let changed = zip(predictions[t].ids, predictions[t + 1].ids).filter { $0 != $1 }.count
                    pairs.append(
                        FlickerPair(key: keys[t], fraction: Double(changed) / Double(predictions[t].ids.count)))
                }
                #expect(counts.pairs == pairs, "\(sequence.name) \(method) flicker pairs")
                for n in [8, 16] where truths.count > n {
                    let twin = Temporal.referenceWindows(
                        truths: truths, predictions: predictions, n: n, video: sequence.name, keys: keys,
                        classes: dataset.space.count)
                    #expect(Self.same(counts.windows[n] ?? [], twin), "\(sequence.name) \(method) VC\(n)")
                    windowsCompared += twin.count
                }
                #expect(counts.windows.keys.allSatisfy { truths.count > $0 }, "videos of <= n frames skipped")
            }
        }
        #expect(windowsCompared == 2 * ((21 - 8) + (13 - 8) + (21 - 16)))
    }

    /// The per-frame pass's maps, shared with the temporal pass: kept up to
    /// the budget (bytes of ids), each handed out once.
    @Test func decodedMapsAreBoundedAndTakenOnce() {
        let maps = DecodedMaps(budget: 10)
        let six = LabelMap(width: 3, height: 2, ids: [1, 2, 3, 4, 5, 6])
        maps.keep(six, path: "a")
        maps.keep(six, path: "b")
        #expect(maps.take("b") == nil, "a second 6-pixel map is past a 10-byte budget")
        #expect(maps.take("a") == six)
        #expect(maps.take("a") == nil, "taken once")
        maps.keep(six, path: "b")
        #expect(maps.take("b") == six, "taking frees its bytes")
    }
}
