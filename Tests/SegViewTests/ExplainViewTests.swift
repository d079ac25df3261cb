import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegRuns
import SegSynth
import SegTestSupport
import Testing

@testable import SegView

/// The explain view (X) against an explanation computed here from the same weights and npy files through
/// the engine alone: the heat of every pane pixel is its token's weight, the panel's numbers are the
/// explanation's as rounded on screen.
@Suite struct ExplainViewTests {
    static let weights = TestSupport.repositoryRoot + "/samples/weights/street-c64.safetensors"

    /// One sequence of three 64x128 frames with 64-channel features (8x16 tokens), the sample weights.
    static func controller(features: Bool = true, weights: String? = weights) throws -> (ViewerController, Dataset) {
        let root = try TestSupport.scratchDirectory()
        var spec = SyntheticDataset()
        spec.sequences = 1
        spec.frames = 3
        spec.height = 64
        spec.width = 128
        spec.split = "val"
        spec.writeFeatures = features
        try spec.write(to: root + "/d", force: false)
        var options = DatasetOptions()
        options.path = root + "/d"
        try options.addMethods(
            predictions: ["baseline=\(root)/d/gtFine", "mar=\(root)/d/gtFine"], confidences: [])
        let dataset = try DatasetLocator.open(options)
        let c = try ViewerController(
            dataset: dataset, theme: .builtIn(for: .cityscapes), bookmarksPath: root + "/marks.json", weights: weights)
        c.blocking = true
        c.markGlyphs = false
        return (c, dataset)
    }

    static func rowText(_ grid: CellGrid, _ y: Int, from x0: Int) -> String {
        String((x0..<grid.width).map { grid[$0, y].glyph })
    }

    /// The explanation of pixel `at` (its token, and the pixel's probabilities) in frame 1's window (frames 0, 1,
    /// 2), from the npy files and weights.
    static func reference(_ dataset: Dataset, pixel at: ViewState.Point) throws -> PixelExplanation {
        let model = try Model.load(path: weights)
        let maps = try dataset.sequences[0].frames.map { try FeatureMap.read(path: $0.features!) }
        let context = try ExplainContext(
            model: model, previous: maps[0].values, current: maps[1].values, next: maps[2].values,
            height: maps[1].height, width: maps[1].width)
        return try context.explain(pixelY: at.y, pixelX: at.x)
    }

    @Test func heatSitsAtEachTokensCellAndThePanelShowsTheExplanationsNumbers() throws {
        let (c, dataset) = try Self.controller()
        c.go(sequence: 0, frame: 1)
        _ = c.model()
        #expect(c.handle(.character("X")) == .redraw)
        #expect(c.state.explain.on && c.state.inspector.on)
        let cursor = try #require(c.state.inspector.cursor)
        let token = (y: cursor.y / 8, x: cursor.x / 8)
        let expected = try Self.reference(dataset, pixel: cursor)
        let model = c.model()
        guard case .success(let shown)? = model.explain?.result else {
            Issue.record("no explanation: \(String(describing: model.explain?.result))")
            return
        }
        #expect(shown.y == token.y && shown.x == token.x)
        #expect(model.explain?.keys == dataset.sequences[0].frames.map(\.key))

        // A screen on which each pane shows its 128x64 frame pixel for pixel.
        func paneSize(_ rect: ScreenLayout.PaneRect) -> (width: Int, height: Int) {
            Compositor.pixelSize(
                viewport: Viewport(x0: 0, y0: 0, x1: 128, y1: 64), columns: rect.width - 1, rows: rect.height - 1)
        }
        let height = try #require(
            (40...160).first { height in
                _ = c.paint(width: 330, height: height)
                return c.paintedLayout.map { paneSize($0.panes[0]) == (128, 64) } ?? false
            })
        let grid = c.paint(width: 330, height: height)
        let layout = try #require(c.paintedLayout)
        let composed = expected.composed[0]
        let largest = composed.average.max()!
        let heat = c.theme.color(.heat)
        let background = c.theme.color(.background)
        let (h, w) = (composed.height, composed.width)
        var checked = 0
        for rect in layout.panes {
            guard case .explain(let offset, let title) = rect.pane else {
                Issue.record("a pane that is not the explain view's: \(rect.pane)")
                continue
            }
            #expect(title.contains("composed cross L0 avg"))
            let size = paneSize(rect)
            #expect(size.width == 128 && size.height == 64, "pixel for pixel")
            let (left, top) = Compositor.imageRect(
                x: rect.x, y: rect.y, width: rect.width, height: rect.height, size: size)
            let image = try #require(model.explain?.frames[offset + 1]?.image)
            for y in 0..<64 {
                for x in 0..<128 {
                    let cell = grid[left + x, top + y / 2]
                    if cell.glyph != Cell.upperHalf { continue }  // the token marker
                    let t = composed.average[((offset + 1) * h + y / 8) * w + x / 8] / largest
                    let i = 3 * (y * 128 + x)
                    let pixel = RGB(image.rgb[i], image.rgb[i + 1], image.rgb[i + 2])
                    let want = Compositor.blend(Compositor.blend(pixel, background, ExplainView.dim), heat, t)
                    #expect((y % 2 == 0 ? cell.foreground : cell.background) == want, "T\(offset) pixel (\(y), \(x))")
                    checked += 1
                }
            }
        }
        #expect(layout.panes.count == 3 && checked > 3 * 128 * 64 - 10)
        // Without colours, the top key's cell carries the glyph of the top heat level.
        c.markGlyphs = true
        let glyphs = c.paint(width: 330, height: height)
        let (best, _) = composed.top(1)[0]
        let pane = layout.panes[best.frame + 1]
        let (x0, y0) = Compositor.imageRect(
            x: pane.x, y: pane.y, width: pane.width, height: pane.height, size: (128, 64))
        for y in 0..<4 {
            for x in 0..<8 where !(best.frame == 0 && best.y == token.y && best.x == token.x) {
                #expect(glyphs[x0 + best.x * 8 + x, y0 + best.y * 4 + y].glyph == "#")
            }
        }
        c.markGlyphs = false
        // The cursor's token is marked on T, at its cell.
        let t = layout.panes[1]
        let size = (width: 128, height: 64)
        let (left, top) = Compositor.imageRect(x: t.x, y: t.y, width: t.width, height: t.height, size: size)
        #expect(grid[left + token.x * 8 + 4, top + (token.y * 8 + 4) / 2].glyph == "╋")

        // The top keys: the largest weights of the composed map, each with its frame and cell.
        let panel = try #require(layout.panel)
        let lines = (0..<layout.areaHeight).map { Self.rowText(grid, $0, from: panel.x + 2) }
        for (key, weight) in composed.top(ExplainView.topCount) {
            let prefix =
                key.frameName.padding(toLength: 3, withPad: " ", startingAt: 0) + " "
                + "(\(key.y),\(key.x))".padding(toLength: 9, withPad: " ", startingAt: 0) + " "
                + String(format: "%.4f", Double(weight))
            #expect(lines.contains { $0.hasPrefix(prefix) }, "top key \(prefix)\n\(lines.joined(separator: "\n"))")
        }
        let mar = try #require(expected.mar)
        // p and p' are the pixel's (the prediction panes' logits), before MAR (STF's) and after it.
        let pixel = Dictionary(uniqueKeysWithValues: expected.pixelProbabilities.map { ($0.stage, $0.values) })
        let (before, after) = (try #require(pixel[.stf]), try #require(pixel[.mar]))
        #expect(lines.contains { $0.contains("p: pixel y\(cursor.y) x\(cursor.x); mass, cos: token") })
        let names = c.theme.space.classNames
        for (rank, k) in mar.classMass.indices.sorted(by: { mar.classMass[$0] > mar.classMass[$1] }).enumerated()
        where rank < 5 || mar.classMass[k] >= 0.01 {
            let numbers = [
                String(format: "%.3f", Double(mar.classMass[k])),
                String(format: "%.2f", Double(before[k])),
                String(format: "%.2f", Double(after[k])),
                String(format: "%.2f", Double(mar.cosineBefore[k])),
                String(format: "%.2f", Double(mar.cosineAfter[k])),
            ]
            let row = lines.first { $0.hasPrefix("█ " + names[k].prefix(3)) }
            #expect(
                row.map { $0.split(separator: " ").suffix(5).map(String.init) } == numbers,
                "MAR row of \(names[k]): \(row ?? "missing")")
        }
        for (row, k, weight) in mar.topRows(3) {
            #expect(
                lines.contains {
                    $0.split(separator: " ").first == Substring(String(row)) && $0.contains(names[k].prefix(3))
                        && $0.trimmingCharacters(in: .whitespaces).hasSuffix(String(format: "%.4f", Double(weight)))
                })
        }
    }

    @Test func movingTheCursorToAnotherTokenExplainsThatToken() throws {
        let (c, dataset) = try Self.controller()
        c.go(sequence: 0, frame: 1)
        _ = c.model()
        _ = c.handle(.character("X"))
        let before = try #require(c.model().explain?.token)
        for _ in 0..<8 { _ = c.handle(.left) }
        for _ in 0..<8 { _ = c.handle(.up) }
        let model = c.model()
        let after = try #require(model.explain?.token)
        #expect(after.y < before.y && after.x < before.x)
        guard case .success(let shown)? = model.explain?.result else {
            Issue.record("no explanation")
            return
        }
        let cursor = try #require(c.state.inspector.cursor)
        let expected = try Self.reference(dataset, pixel: cursor)
        #expect(shown.y == after.y && shown.x == after.x)
        #expect(shown.pixel?.y == cursor.y && shown.pixel?.x == cursor.x)
        #expect(shown.pixelProbabilities.map(\.values) == expected.pixelProbabilities.map(\.values))
        #expect(shown.mar?.classMass == expected.mar?.classMass)
        #expect(shown.composed[0].average == expected.composed[0].average)
    }

    @Test func keysCycleMapHeadAndLayerAndThePaneTitlesSayWhich() throws {
        let (c, _) = try Self.controller()
        c.go(sequence: 0, frame: 1)
        _ = c.model()
        _ = c.handle(.character("X"))
        _ = c.handle(.character(">"))
        #expect(c.state.explain.map == .crossLong)
        _ = c.handle(.character(")"))
        #expect(c.state.explain.head == 0)
        _ = c.handle(.character(")"))
        _ = c.handle(.character(")"))
        #expect(c.state.explain.head == nil, "two heads, then the average again")
        _ = c.handle(.character("("))
        #expect(c.state.explain.head == 1)
        _ = c.handle(.character("P"))
        #expect(c.state.explain.layer == 0, "the sample weights have one decoder layer")
        let model = c.model()
        let titles = model.panes.map(\.title)
        #expect(titles.count == 3)
        #expect(titles[0].hasPrefix("T-1: cross long L0 h1") && titles[2].hasPrefix("T+1: cross long L0 h1"))
        // The cross long map of head 1 is that step's weights: its top key in the panel.
        guard case .success(let e)? = model.explain?.result else {
            Issue.record("no explanation")
            return
        }
        let step = try #require(e.steps.first { $0.kind == .decoderCrossLong })
        let best = step.weights[1].indices.max { step.weights[1][$0] < step.weights[1][$1] }!
        let grid = c.paint(width: 200, height: 60)
        let panel = try #require(c.paintedLayout?.panel)
        let lines = (0..<60).map { Self.rowText(grid, $0, from: panel.x + 2) }
        let key = step.keys[best]
        #expect(
            lines.contains {
                $0.hasPrefix(key.frameName.padding(toLength: 3, withPad: " ", startingAt: 0) + " (\(key.y),\(key.x))")
                    && $0.contains(String(format: "%.4f", Double(step.weights[1][best])))
            })
        _ = c.handle(.character("<"))
        _ = c.handle(.character("<"))
        #expect(c.state.explain.map == .encoderShort, "wraps around")
    }

    /// The interactive viewer never waits for the window: the first model after X has progress and no
    /// explanation; the explanation arrives from the background; another frame starts over; X again drops it.
    @Test func theWindowIsBuiltInTheBackgroundWithProgress() throws {
        let (c, _) = try Self.controller()
        c.blocking = false
        _ = c.model(blocking: true)
        _ = c.handle(.character("X"))
        let first = try #require(c.model().explain)
        #expect(first.result == nil && first.progress?.hasPrefix("explain: ") == true)
        let status = { () -> String in
            let grid = c.paint(width: 200, height: 50)
            return Self.rowText(grid, 49, from: 0)
        }
        #expect(status().contains("explain: "), "progress on the status line")
        let deadline = Date().addingTimeInterval(60)
        while c.model().explain?.token == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard case .success? = c.model().explain?.result else {
            Issue.record("no explanation within a minute")
            return
        }
        #expect(status().contains("explain token y"))
        // Another frame: its window starts over (progress, no result), never the previous frame's shown for it.
        let before = c.currentKey
        c.go(sequence: 0, frame: 2)
        #expect(c.currentKey != before)
        let now = c.model().explain
        #expect(now?.keys.isEmpty ?? true || now?.keys[1] == c.currentKey, "no other frame's window")
        #expect(now?.keys.isEmpty == false || now?.progress != nil, "building it says so")
        _ = c.handle(.character("X"))
        #expect(c.model().explain == nil && c.explainCache == nil)
    }

    /// At a sequence's first frame T stands in for T-1 (as infer's windows).
    @Test func theFirstFrameRepeatsItselfAsTMinusOne() throws {
        let (c, dataset) = try Self.controller()
        _ = c.model()
        _ = c.handle(.character("X"))
        let keys = dataset.sequences[0].frames.map(\.key)
        #expect(c.model().explain?.keys == [keys[0], keys[0], keys[1]])
        _ = c.handle(.end)
        #expect(c.model().explain?.keys == [keys[1], keys[2], keys[2]])
    }

    /// The one-pass top list equals sorting everything (largest first, ties by index), ties included.
    @Test func topKeysEqualAFullSort() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 5, 40] {
            let values = (0..<200).map { _ in Float(Int.random(in: 0..<30, using: &generator)) / 7 }
            let sorted = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
            #expect(ExplainView.largestFirst(values, count) == Array(sorted.prefix(count)))
        }
    }

    /// Features share the frame cache's budget: the least recently used go first.
    @Test func featuresAreKeptWithinTheCacheBudget() throws {
        let (_, dataset) = try Self.controller()
        let map = try FeatureMap.read(path: dataset.frames[0].features!)
        let cache = FrameCache(dataset: dataset, budgetBytes: 2 * 4 * map.values.count + 100)
        cache.storeFeatures(0, map)
        cache.storeFeatures(1, map)
        #expect(cache.features(0) != nil, "two fit; 0 is now the more recently used")
        cache.storeFeatures(2, map)
        #expect(cache.features(1) == nil && cache.features(0) != nil && cache.features(2) != nil)
    }

    @Test func saysWhatItNeedsWithoutWeightsOrFeatures() throws {
        for (features, weights) in [(true, nil as String?), (false, Self.weights)] {
            let (c, dataset) = try Self.controller(features: features, weights: weights)
            _ = c.model()
            _ = c.handle(.character("X"))
            let grid = c.paint(width: 200, height: 50)
            let panel = try #require(c.paintedLayout?.panel)
            let text = (0..<50).map { Self.rowText(grid, $0, from: panel.x + 2).trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
            let message =
                weights == nil ? ExplainSource.needsWeights : ExplainSource.needsFeatures(dataset.frames[0].key)
            #expect(text.contains(message), "\(text)")
            guard case .failure(let reason)? = c.model().explain?.result else {
                Issue.record("no failure")
                continue
            }
            #expect(reason.text == message && !message.contains("\n"))
        }
    }

    @Test func smallTerminalsKeepNumbersWholeAndSayWhatTheyHide() throws {
        let (c, _) = try Self.controller()
        c.go(sequence: 0, frame: 1)
        _ = c.model()
        _ = c.handle(.character("X"))
        let grid = c.paint(width: 80, height: 24)
        let layout = try #require(c.paintedLayout)
        let panel = try #require(layout.panel)
        for rect in layout.panes { #expect(rect.x + rect.width <= panel.x, "panes left of the panel") }
        let lines = (0..<layout.areaHeight).map { Self.rowText(grid, $0, from: panel.x + 2) }
        let all = ExplainView.panelLines(c.model(), inner: panel.width - 3).map(\.text)
        if all.count > layout.areaHeight {
            #expect(lines.last?.hasPrefix("+\(all.count - layout.areaHeight + 1) lines hidden") == true)
        } else {
            #expect(lines[all.count - 1].hasPrefix(all.last!))
        }
        // Each top key's weight is whole (four decimals) after its frame and token; names shorten instead.
        let keys = lines.filter { $0.hasPrefix("T") }
        #expect(keys.count == ExplainView.topCount)
        for line in keys {
            let pattern = #"^T[-+ 1]{2} \(\d+,\d+\) +\d\.\d{4} "#
            #expect(line.range(of: pattern, options: .regularExpression) != nil, "\(line)")
        }
    }

    /// In the single layout the view starts at its first pane and leaving it gives back the pane shown before.
    @Test func leavingTheViewGivesBackTheSinglePaneShownBefore() throws {
        let (c, _) = try Self.controller()
        c.go(sequence: 0, frame: 1)
        c.setLayout(.single)
        c.state.panes.singlePane = 2
        _ = c.handle(.character("X"))
        #expect(c.state.panes.singlePane == 0)
        _ = c.handle(.character("X"))
        #expect(c.state.panes.singlePane == 2 && !c.state.explain.on)
    }
}
