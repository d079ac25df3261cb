import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels

extension ViewState {
    /// The explain view: which attention map of the cursor's token is drawn over T-1, T, T+1.
    public struct ExplainState: Equatable, Sendable {
        public var on = false
        public var map = ExplainMap.composed
        /// nil: the mean over heads.
        public var head: Int?
        /// The layer among the selected map's layers (encoder or decoder), wrapped to their count.
        public var layer = 0
        /// The single layout's pane of the view not shown (the other view's, swapped in by X).
        public var singlePaneAside = 0
    }
}

/// The attention maps the explain view draws, in the order `<` / `>` cycle them.
public enum ExplainMap: String, CaseIterable, Sendable {
    case composed = "composed cross"
    case crossLong = "cross long"
    case crossShort = "cross short"
    case selfLong = "self long"
    case selfShort = "self short"
    case encoderLong = "encoder long"
    case encoderShort = "encoder short"

    var stepKind: AttentionStepKind? {
        switch self {
        case .composed: return nil
        case .crossLong: return .decoderCrossLong
        case .crossShort: return .decoderCrossShort
        case .selfLong: return .decoderSelfLong
        case .selfShort: return .decoderSelfShort
        case .encoderLong: return .encoderLong
        case .encoderShort: return .encoderShort
        }
    }
}

/// What the explain view draws from: the window's frames and the explanation of the cursor's token.
public struct ExplainModel: Sendable {
    /// Frames T-1, T, T+1 once decoded (T stands in for a missing neighbour at a sequence's ends).
    public var frames: [FrameData?] = [nil, nil, nil]
    public var keys: [String] = []
    /// The feature map's size (tokens); each token covers `featureStride` x `featureStride` pixels.
    public var featureHeight = 0, featureWidth = 0
    /// The cursor's token, once the window is built.
    public var token: (y: Int, x: Int)?
    /// nil while the window is built.
    public var result: Result<PixelExplanation, Unavailable>?
    /// The attention map the state selects from `result` (computed once per model).
    var map: Result<SelectedMap, Unavailable>?
    public var progress: String?

    public init() {}
}

/// One attention map of the explanation, as drawn: dense over the window's tokens [3, H, W] (T-1 first;
/// tokens that are not keys of the map weigh 0) and its largest keys.
struct SelectedMap: Sendable {
    let name: String
    let layer: Int
    let head: Int?
    let weights: [Float]
    let top: [(key: TokenPosition, weight: Float)]
    let largest: Float

    /// "composed cross L0 avg" / "cross long L1 h0".
    var title: String { "\(name) L\(layer) \(head.map { "h\($0)" } ?? "avg")" }
}

/// The explain view (X): the selected attention map of the cursor's token as a heat map over frames T-1,
/// T, T+1, and a side panel with its top keys and what MAR did at the token.
enum ExplainView: ViewerUnit {
    /// Keys listed in the panel.
    static let topCount = 5
    /// Image pixels are blended this far towards the background under the heat.
    static let dim: Float = 0.6
    /// Heat levels (fractions of the largest weight) that get a glyph without colours.
    static let glyphLevels: [(at: Float, glyph: Character)] = [(0.25, "+"), (0.5, "*"), (0.75, "#")]

    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "X",
            "explain view: the cursor's token's attention over T-1, T, T+1 and MAR's memory (needs weights: "
                + "--weights or the manifest's)",
            [(Key.character("X"), .redraw("toggleExplain") { c in toggle(c) })]),
        KeyHelpRow(
            "<  >",
            "explain view: previous / next map (composed cross, cross long/short, self long/short, "
                + "encoder long/short)",
            context: .explain,
            [
                (Key.character("<"), .redraw("previousExplainMap") { c in cycleMap(c, by: -1) }),
                (Key.character(">"), .redraw("nextExplainMap") { c in cycleMap(c, by: 1) }),
            ]),
        KeyHelpRow(
            "(  )", "explain view: previous / next head (average over heads, then each head)", context: .explain,
            [
                (Key.character("("), .redraw("previousExplainHead") { c in cycleHead(c, by: -1) }),
                (Key.character(")"), .redraw("nextExplainHead") { c in cycleHead(c, by: 1) }),
            ]),
        KeyHelpRow(
            "p  P", "explain view: previous / next layer", context: .explain,
            [
                (Key.character("p"), .redraw("previousExplainLayer") { c in cycleLayer(c, by: -1) }),
                (Key.character("P"), .redraw("nextExplainLayer") { c in cycleLayer(c, by: 1) }),
            ]),
    ]

    /// Turning the view on turns the inspector on: its cursor picks the token.
    static func toggle(_ c: ViewerController) {
        c.state.explain.on.toggle()
        // In the single layout the explain view starts at T-1; leaving it gives back the pane shown before.
        (c.state.panes.singlePane, c.state.explain.singlePaneAside) =
            (c.state.explain.singlePaneAside, c.state.panes.singlePane)
        guard c.state.explain.on else {
            c.explainSource.release()
            c.explainCache = nil
            return
        }
        c.state.inspector.on = true
        if c.state.inspector.cursor == nil, let frame = c.cache.frame(c.frameIndex), frame.width > 0 {
            c.state.inspector.cursor = ViewState.Point(x: frame.width / 2, y: frame.height / 2)
        }
    }

    static func cycleMap(_ c: ViewerController, by step: Int) {
        let all = ExplainMap.allCases
        let i = all.firstIndex(of: c.state.explain.map)!
        c.state.explain.map = all[(i + step + all.count) % all.count]
    }

    /// Average, head 0, …, head n-1, around; the count is the current explanation's.
    static func cycleHead(_ c: ViewerController, by step: Int) {
        guard let heads = counts(c)?.heads, heads > 0 else { return }
        let position = (c.state.explain.head.map { $0 + 1 } ?? 0) + step
        let wrapped = (position % (heads + 1) + heads + 1) % (heads + 1)
        c.state.explain.head = wrapped == 0 ? nil : wrapped - 1
    }

    static func cycleLayer(_ c: ViewerController, by step: Int) {
        guard let layers = counts(c)?.layers, layers > 0 else { return }
        c.state.explain.layer = ((c.state.explain.layer + step) % layers + layers) % layers
    }

    /// Heads and layers of the selected map in the explanation shown.
    static func counts(_ c: ViewerController) -> (heads: Int, layers: Int)? {
        // The explanation shown (kept once painted), else the model's (built for it: a key before any paint).
        guard case .success(let e)? = c.explainCache?.result ?? c.model().explain?.result else { return nil }
        return counts(e, c.state.explain.map)
    }

    static func counts(_ e: PixelExplanation, _ map: ExplainMap) -> (heads: Int, layers: Int) {
        if let kind = map.stepKind {
            let steps = e.steps.filter { $0.kind == kind }
            return (steps.first?.weights.count ?? 0, steps.count)
        }
        return (e.composed.first?.perHead.count ?? 0, e.composed.count)
    }

    // MARK: the model

    /// The window of the current frame (built in the background) and the cursor's token's explanation
    /// (computed here, per cursor move: milliseconds once the window is built).
    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        guard c.state.explain.on else { return }
        var e = ExplainModel()
        e.frames = [nil, model.frame, nil]
        let at = ViewState.FramePosition(sequence: c.state.sequence, frame: c.state.frame)
        switch c.explainSource.window(at: at, blocking: blocking) {
        case nil:
            e.progress = c.explainSource.progress ?? "explain: preparing the window…"
        case .failure(let reason)?:
            e.result = .failure(reason)
        case .success(let window)?:
            e.keys = window.keys
            e.frames = window.frames.map { blocking ? c.cache.load($0) : c.cache.frame($0) }
            let (h, w) = (window.context.height, window.context.width)
            (e.featureHeight, e.featureWidth) = (h, w)
            guard let frame = model.frame else { break }
            guard frame.width == featureStride * w, frame.height == featureStride * h else {
                e.result = .failure(
                    Unavailable(
                        "features \(h)x\(w) are not 1/\(featureStride) of frame \(frame.key)'s "
                            + "\(frame.height)x\(frame.width)"))
                break
            }
            guard let cursor = c.state.inspector.cursor else { break }
            let token = (
                y: min(h - 1, max(0, cursor.y / featureStride)), x: min(w - 1, max(0, cursor.x / featureStride))
            )
            e.token = token
            // Per pixel, not per token: the probabilities are the pixel's, as the prediction panes show them.
            let pixel = (y: min(frame.height - 1, max(0, cursor.y)), x: min(frame.width - 1, max(0, cursor.x)))
            if let cached = c.explainCache, cached.at == at, cached.y == pixel.y, cached.x == pixel.x {
                e.result = cached.result
            } else {
                let result: Result<PixelExplanation, Unavailable>
                do { result = .success(try window.context.explain(pixelY: pixel.y, pixelX: pixel.x)) } catch {
                    result = .failure(Unavailable(oneLine("\(error)")))
                }
                c.explainCache = (at, pixel.y, pixel.x, result)
                e.result = result
            }
            if case .success(let explanation)? = e.result {
                e.map = selected(explanation, c.state.explain, height: h, width: w)
            }
        }
        model.explain = e
    }

    /// The map the state selects, with its top `count` keys.
    static func selected(_ e: PixelExplanation, _ state: ViewState.ExplainState, height h: Int, width w: Int)
        -> Result<SelectedMap, Unavailable>
    {
        let n = h * w
        var dense = [Float](repeating: 0, count: 3 * n)
        let (heads, layers) = counts(e, state.map)
        guard layers > 0 else { return .failure(Unavailable("the weights have no STF: no attention map")) }
        let layer = state.layer % layers
        let head = state.head.flatMap { $0 < heads ? $0 : nil }
        if let kind = state.map.stepKind {
            let step = e.steps.filter { $0.kind == kind }[layer]
            let weights = head.map { step.weights[$0] } ?? step.headAverage
            for (key, weight) in zip(step.keys, weights) { dense[(key.frame + 1) * n + key.y * w + key.x] = weight }
        } else {
            let map = e.composed[layer]
            guard map.height == h, map.width == w else {
                return .failure(Unavailable("composed map \(map.height)x\(map.width), features \(h)x\(w)"))
            }
            dense = head.map { map.perHead[$0] } ?? map.average
        }
        if let i = dense.firstIndex(where: { !$0.isFinite }) {
            return .failure(Unavailable("the \(state.map.rawValue) map holds \(dense[i]) at token \(i)"))
        }
        let order = largestFirst(dense, topCount)
        let top = order.map { (key: TokenPosition(frame: $0 / n - 1, y: $0 % n / w, x: $0 % w), weight: dense[$0]) }
        return .success(
            SelectedMap(
                name: state.map.rawValue, layer: layer, head: head, weights: dense, top: top,
                largest: order.first.map { dense[$0] } ?? 0))
    }

    /// Indices of the `count` largest values, largest first, ties by index (as the engine's top lists); one
    /// pass, as a map has 3*H*W tokens (98,304 at the release's size) and the model is built every loop turn.
    static func largestFirst(_ values: [Float], _ count: Int) -> [Int] {
        var best: [Int] = []
        guard count > 0 else { return best }
        for i in values.indices where best.count < count || values[i] > values[best[best.count - 1]] {
            let at = best.firstIndex { values[i] > values[$0] } ?? best.count
            best.insert(i, at: at)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    static func selected(_ model: ViewModel) -> SelectedMap? {
        guard case .success(let map)? = model.explain?.map else { return nil }
        return map
    }

    /// The three panes that replace the others while the view is on.
    static func panes(_ model: ViewModel) -> [Pane] {
        let map = selected(model)
        return [-1, 0, 1].map { offset in
            let frame = TokenPosition(frame: offset, y: 0, x: 0).frameName
            let keys = model.explain?.keys ?? []
            var key = keys.indices.contains(offset + 1) ? keys[offset + 1] : ""
            // At a sequence's ends, or next to a frame without features, T stands in (as infer takes it): said.
            if offset != 0, keys.count == 3, keys[offset + 1] == keys[1] { key = "T stands in" }
            let title = [frame + ": " + (map?.title ?? model.state.explain.map.rawValue), key].filter { !$0.isEmpty }
            return .explain(offset: offset, title: title.joined(separator: ", "))
        }
    }

    /// The status line's segment and its priority: progress, what is missing (before everything else, so
    /// it shows in one line), or the token explained.
    static func status(_ model: ViewModel) -> (text: String, priority: Int)? {
        guard let e = model.explain else { return nil }
        if let progress = e.progress { return (progress, 9) }
        switch e.result {
        // The reason is long (file names) and the panel shows it whole; the position keeps its place here.
        case .failure?: return ("explain: unavailable, the panel says why", 9)
        case .success?:
            guard let token = e.token else { return nil }
            return ("explain token y\(token.y) x\(token.x)", 9)
        case nil: return nil
        }
    }

    static func legend(_ model: ViewModel) -> LegendEntry? {
        guard let map = selected(model) else { return nil }
        let largest = weight(map.largest)
        if model.markGlyphs {
            return LegendEntry(
                color: model.theme.color(.heat),
                text: "attention weight: + from 1/4, * from 1/2, # from 3/4 of the largest, \(largest)",
                glyph: "#", short: "+ * # attention ≥1/4 1/2 3/4 of \(largest)")
        }
        return LegendEntry(
            color: model.theme.color(.heat),
            text: "attention weight, dimmed frame to full colour = 0 to the largest, \(largest)",
            glyph: "#", short: "attention 0 to \(largest)")
    }

    // MARK: panes

    /// Pane pixels of frame T+`offset`: its image dimmed, the selected map's weight as heat over each token's
    /// cell (the largest weight over the cells a pixel covers), marks for the glyph fallback.
    static func pixels(
        _ compositor: Compositor, offset: Int, viewport v: Viewport, size: (width: Int, height: Int)
    ) -> Result<(pixels: [RGB], marks: [UInt8]?, kinds: [MarkKind]), Unavailable> {
        let model = compositor.model
        guard let e = model.explain else { return .failure(Unavailable("explain view is off")) }
        guard let frame = e.frames[offset + 1] else {
            let waiting = e.keys.isEmpty ? e.progress ?? "no window: the panel says why" : "loading…"
            return .failure(Unavailable(waiting))
        }
        guard let image = frame.image else { return .failure(Unavailable("no RGB frame for \(frame.key)")) }
        guard let current = model.frame, image.width == current.width, image.height == current.height else {
            return .failure(Unavailable("\(frame.key): image size differs from frame T's"))
        }
        let background = compositor.role(.background)
        var pixels = Downsample.areaAverage(image, viewport: v, outWidth: size.width, outHeight: size.height)
            .map { Compositor.blend($0, background, dim) }
        guard let map = selected(model), map.largest > 0 else { return .success((pixels, nil, [])) }
        let heat = heat(map, offset: offset, featureHeight: e.featureHeight, featureWidth: e.featureWidth, v, size)
        let color = compositor.role(.heat)
        let kinds = glyphLevels.map {
            MarkKind(role: .heat, glyph: $0.glyph, legend: "attention ≥\(Int($0.at * 100))% of max")
        }
        var marks = [UInt8](repeating: 0, count: pixels.count)
        for i in pixels.indices where heat[i] > 0 {
            pixels[i] = Compositor.blend(pixels[i], color, heat[i])
            marks[i] = UInt8(glyphLevels.lastIndex { heat[i] >= $0.at }.map { $0 + 1 } ?? 0)
        }
        return .success((pixels, marks, kinds))
    }

    /// Per output pixel, the largest weight (as a fraction of the map's largest) over the tokens whose cells
    /// the pixel covers.
    static func heat(
        _ map: SelectedMap, offset: Int, featureHeight h: Int, featureWidth w: Int, _ v: Viewport,
        _ size: (width: Int, height: Int)
    ) -> [Float] {
        let base = (offset + 1) * h * w
        // The tokens an output pixel covers: its source pixel span, in token units.
        let stride = Float(featureStride)
        func tokens(_ i: Int, _ count: Int, _ from: Float, _ to: Float, limit: Int) -> Range<Int> {
            Viewport.span(i, count, from / stride, to / stride, limit: limit)
        }
        let columns = (0..<size.width).map { tokens($0, size.width, v.x0, v.x1, limit: w) }
        var out = [Float](repeating: 0, count: size.width * size.height)
        for py in 0..<size.height {
            let rows = tokens(py, size.height, v.y0, v.y1, limit: h)
            for px in 0..<size.width {
                var best: Float = 0
                for ty in rows { for tx in columns[px] { best = max(best, map.weights[base + ty * w + tx]) } }
                out[py * size.width + px] = best / map.largest
            }
        }
        return out
    }

    /// Where the cursor's token sits in frame T's pane: the centre pixel of its cell.
    static func tokenCentre(_ model: ViewModel) -> ViewState.Point? {
        guard let token = model.explain?.token else { return nil }
        return ViewState.Point(
            x: token.x * featureStride + featureStride / 2, y: token.y * featureStride + featureStride / 2)
    }

    // MARK: the side panel

    static func panelWidth(screenWidth: Int) -> Int { min(52, max(40, screenWidth * 2 / 5)) }

    /// One line of the panel: segments of text and colour (a class swatch is a segment of its own).
    struct Line {
        var segments: [(text: String, color: LineColor)]
        init(_ segments: [(text: String, color: LineColor)]) { self.segments = segments }
        init(_ text: String, _ role: ThemeRole) { segments = [(text, .role(role))] }
        var text: String { segments.map(\.text).joined() }
    }

    enum LineColor {
        case role(ThemeRole)
        case rgb(RGB)
        case ramp(Float)
    }

    /// A class by the theme's names; the weights may have classes the label space lacks.
    static func className(_ model: ViewModel, _ id: UInt8?) -> String {
        guard let id else { return "-" }
        if Int(id) < model.theme.space.count { return model.theme.space.classNames[Int(id)] }
        return id == LabelSpace.ignore ? "ignore" : "class \(id)"
    }

    /// The class id of `labels` at the centre pixel of token `key`'s cell, if the map covers it.
    static func classAt(_ labels: LabelMap?, _ key: TokenPosition) -> UInt8? {
        guard let labels else { return nil }
        let (y, x) = (key.y * featureStride + featureStride / 2, key.x * featureStride + featureStride / 2)
        guard y < labels.height, x < labels.width else { return nil }
        return labels.ids[y * labels.width + x]
    }

    /// `text` shortened to `width` and padded to it.
    static func column(_ text: String, _ width: Int) -> String {
        Compositor.shorten(text, to: width).padding(toLength: max(0, width), withPad: " ", startingAt: 0)
    }

    static func weight(_ v: Float) -> String { v.isFinite ? String(format: "%.4f", Double(v)) : "\(v)" }
    static func fixed(_ v: Float, _ digits: Int) -> String {
        v.isFinite ? String(format: "%.\(digits)f", Double(v)) : "\(v)"
    }

    /// The panel's lines at inner width `inner`, in the order drawn (numbers whole; labels shorten first).
    static func panelLines(_ model: ViewModel, inner: Int) -> [Line] {
        guard let e = model.explain else { return [] }
        var lines: [Line] = []
        let token = e.token.map { " · token y\($0.y) x\($0.x)" } ?? ""
        guard case .success(let explanation)? = e.result else {
            lines.append(Line("explain\(token)", .title))
            let reason: String
            switch e.result {
            case .failure(let unavailable)?: reason = unavailable.text
            default: reason = e.progress ?? "computing…"
            }
            for text in Compositor.wrapText(reason, width: inner) { lines.append(Line(text, .warning)) }
            return lines
        }
        switch e.map ?? .failure(Unavailable("no map")) {
        case .failure(let reason):
            lines.append(Line("explain\(token)", .title))
            lines.append(Line(reason.text, .dim))
        case .success(let map):
            // Numbers stay whole: the words before them shorten.
            lines.append(Line(Compositor.shorten(map.title, to: inner - token.count) + token, .title))
            let scale = weight(map.largest)
            if model.markGlyphs {
                let label = "heat: + ≥1/4 * ≥1/2 # ≥3/4 of max"
                lines.append(Line(Compositor.shorten(label, to: inner - scale.count - 1) + " " + scale, .text))
            } else {
                lines.append(
                    Line(
                        [("0 ", .role(.text))] + (1...8).map { ("█", .ramp(Float($0) / 8)) }
                            + [(" \(scale) max", .role(.text))]))
            }
            let reference = model.reference
            let compared = model.comparedMethod
            let fixedWidth = 3 + 1 + 9 + 1 + 6
            let methods = [compared, reference].compactMap { $0 }
            let classWidth = max(3, (inner - fixedWidth) / (1 + methods.count) - 1)
            lines.append(
                Line(
                    "key (y,x)     weight"
                        + (["GT"] + methods).map { " " + column($0, classWidth) }.joined(), .dim))
            for (key, value) in map.top {
                let frame = e.frames[key.frame + 1]
                let position = "(\(key.y),\(key.x))"
                var text = column(key.frameName, 3) + " " + column(position, 9) + " " + weight(value)
                text += " " + column(className(model, classAt(frame?.groundTruth, key)), classWidth)
                for method in methods {
                    text += " " + column(className(model, classAt(frame?.predictions[method], key)), classWidth)
                }
                lines.append(Line(text, .text))
            }
        }
        guard let mar = explanation.mar else {
            lines.append(Line("MAR: not in the weights", .dim))
            return lines
        }
        // Classes with mass ≥ 0.01 (at least the top 5).
        let byMass = mar.classMass.indices.sorted {
            mar.classMass[$0] > mar.classMass[$1] || (mar.classMass[$0] == mar.classMass[$1] && $0 < $1)
        }
        var classes = byMass.enumerated().filter { $0.offset < 5 || mar.classMass[$0.element] >= 0.01 }.map(\.element)
        // Probabilities at the cursor's pixel (the logits upsampled as the prediction panes' are), before MAR
        // (the stage it refines) and after it; mass and cosines are the token's, where MAR works.
        let stages = explanation.pixelProbabilities
        let marIndex = stages.firstIndex { $0.stage == .mar }
        let before = marIndex.flatMap { $0 > 0 ? stages[$0 - 1].values : nil } ?? mar.probabilitiesBefore
        let after = marIndex.map { stages[$0].values } ?? mar.probabilitiesAfter
        // Also the classes the pixel is predicted before and after MAR, and its GT class: first, so a short
        // panel keeps them.
        var pinned = [before, after].compactMap { p in
            p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }
        }
        if let frame = model.frame, let gt = frame.groundTruth, let pixel = explanation.pixel,
            pixel.y < gt.height, pixel.x < gt.width, Int(gt.ids[pixel.y * gt.width + pixel.x]) < mar.classMass.count
        {
            pinned.insert(Int(gt.ids[pixel.y * gt.width + pixel.x]), at: 0)
        }
        var seen = Set<Int>()
        classes = (pinned + classes).filter { seen.insert($0).inserted }
        let numbers = 5 + 1 + 4 + 1 + 4 + 1 + 5 + 1 + 5
        let nameWidth = max(1, inner - 2 - numbers - 1)
        // The words shorten first, the pixel's coordinates stay whole.
        let pixel = explanation.pixel.map { p in
            [" · p: pixel y\(p.y) x\(p.x); mass, cos: token", " · p: pixel y\(p.y) x\(p.x)", " · p: y\(p.y) x\(p.x)"]
                .first { 3 + $0.count <= inner } ?? ""
        }
        lines.append(Line("MAR" + (pixel ?? ""), .title))
        lines.append(Line("  " + column("class", nameWidth) + "  mass    p   p'   cos  cos'", .dim))
        for k in classes {
            let name = className(model, UInt8(clamping: k))
            var text = " " + column(name, nameWidth) + " " + fixed(mar.classMass[k], 3).leftPadded(5)
            text += " " + fixed(before[k], 2).leftPadded(4)
            text += " " + fixed(after[k], 2).leftPadded(4)
            text += " " + fixed(mar.cosineBefore[k], 2).leftPadded(5) + " " + fixed(mar.cosineAfter[k], 2).leftPadded(5)
            let swatch = k < model.theme.classColors.count ? model.theme.classColors[k] : model.theme.color(.ignore)
            lines.append(Line([("█", .rgb(swatch)), (text, .role(.text))]))
        }
        lines.append(Line("memory rows (\(mar.rowsPerClass) per class)", .title))
        let rowWidth = String(mar.rowWeights.count).count
        for (row, k, value) in mar.topRows(3) {
            let label = String(row).leftPadded(max(3, rowWidth))
            let name = column(className(model, UInt8(clamping: k)), max(1, inner - max(3, rowWidth) - 2 - 7))
            lines.append(Line(label + " " + name + " " + weight(value), .text))
        }
        return lines
    }

    static func drawPanel(_ compositor: Compositor, x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let model = compositor.model
        let bg = compositor.role(.background)
        let (left, inner) = compositor.sidePanelBorder(x: x, width: width, height: height, into: &grid)
        var lines = panelLines(model, inner: inner)
        if lines.count > height {
            let hidden = lines.count - height + 1
            lines =
                Array(lines.prefix(height - 1))
                + [Line(Compositor.shorten("+\(hidden) lines hidden (a taller terminal shows them)", to: inner), .dim)]
        }
        let heat = compositor.role(.heat)
        for (row, line) in lines.enumerated() {
            var column = left
            for (text, color) in line.segments {
                let foreground: RGB
                switch color {
                case .role(let role): foreground = compositor.role(role)
                case .rgb(let rgb): foreground = rgb
                case .ramp(let t): foreground = Compositor.blend(bg, heat, t)
                }
                let room = left + inner - column
                guard room > 0 else { break }
                grid.text(
                    String(text.prefix(room)), x: column, y: row, foreground: foreground, background: bg,
                    bold: row == 0)
                column += min(room, text.count)
            }
        }
    }
}
