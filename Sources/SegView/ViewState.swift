/// Everything the user has chosen in the viewer. The compositor draws from
/// this (and the loaded data) alone; keys change it through `ViewState.apply`.
public struct ViewState: Equatable, Sendable {
    public enum Layout: String, CaseIterable, Sendable { case grid, row, single }
    public enum Mode: String, Sendable { case classes, confidence, flips }
    public enum IoUScope: String, CaseIterable, Sendable { case frame, sequence, range }
    public enum IoUSort: String, Sendable { case byClass = "class", byDelta = "delta" }
    public enum PromptKind: Sendable { case jump, bookmark }

    public struct Point: Equatable, Sendable {
        public var x: Int, y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
    }

    public var sequence = 0
    public var frame = 0
    public var layout = Layout.grid
    /// Pane shown in the single layout (index into the pane list).
    public var singlePane = 0
    public var mode = Mode.classes
    public var overlay = false
    public var opacity: Float = 0.5
    /// Confidence-change threshold and boundary radius (full-resolution pixels).
    public var tau: Float = 0.10
    public var radius = 3
    /// The method compared with the reference (flips, deltas).
    public var compared: String?
    public var flipsInBandOnly = false
    public var showIoU = false
    public var iouScope = IoUScope.frame
    public var iouSort = IoUSort.byClass
    public var selectedRow = 0
    public var focusedClass: Int?
    public var rangeStart: Int?
    public var rangeEnd: Int?
    public var inspect = false
    public var cursor: Point?
    /// 1 = whole image; larger shows a smaller part around (centerX, centerY), in [0, 1].
    public var zoom: Float = 1
    public var centerX: Float = 0.5
    public var centerY: Float = 0.5
    public var showHelp = false
    public var playing = false
    public var fps: Double = 5
    public var prompt: (kind: PromptKind, text: String)?
    public var message: String?

    public init() {}

    public static func == (a: ViewState, b: ViewState) -> Bool {
        a.sequence == b.sequence && a.frame == b.frame && a.layout == b.layout && a.singlePane == b.singlePane
            && a.mode == b.mode && a.overlay == b.overlay && a.opacity == b.opacity && a.tau == b.tau
            && a.radius == b.radius && a.compared == b.compared && a.flipsInBandOnly == b.flipsInBandOnly
            && a.showIoU == b.showIoU && a.iouScope == b.iouScope && a.iouSort == b.iouSort
            && a.selectedRow == b.selectedRow && a.focusedClass == b.focusedClass && a.rangeStart == b.rangeStart
            && a.rangeEnd == b.rangeEnd && a.inspect == b.inspect && a.cursor == b.cursor && a.zoom == b.zoom
            && a.centerX == b.centerX && a.centerY == b.centerY && a.showHelp == b.showHelp && a.playing == b.playing
            && a.fps == b.fps && a.prompt?.kind == b.prompt?.kind && a.prompt?.text == b.prompt?.text && a.message == b.message
    }
}
