/// Everything the user has chosen in the viewer. The compositor draws from
/// this (and the loaded data) alone; keys change it through the controller.
public struct ViewState: Equatable, Sendable {
    public enum Layout: String, CaseIterable, Sendable { case grid, row, single }
    /// What the first pane shows besides the class maps.
    public enum Mode: String, Sendable { case classes, confidence, flips, suspects, flicker }
    /// What the IoU panel's columns hold.
    public enum PanelMetric: String, CaseIterable, Sendable { case iou = "IoU", boundaryIoU = "Boundary IoU", instanceIoU = "iIoU" }
    /// What the sparklines plot per frame.
    public enum SparkMetric: String, CaseIterable, Sendable { case meanIoU = "mIoU", flicker, vc8 = "VC8" }
    /// The side panel: per-class IoU or the confusion matrix.
    public enum Panel: String, Sendable { case none, iou, confusion }
    public enum Scope: String, CaseIterable, Sendable { case frame, sequence, range, dataset }
    public enum IoUSort: String, Sendable { case byClass = "class", byDelta = "delta" }
    public enum PromptKind: Sendable { case jump, bookmark }

    public struct Point: Equatable, Sendable {
        public var x: Int, y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
    }

    /// Pixels of one confusion (ground-truth class → predicted class of a
    /// method), highlighted in every pane.
    public struct Highlight: Equatable, Sendable {
        public var groundTruth: Int, predicted: Int
        public var method: String
        public init(groundTruth: Int, predicted: Int, method: String) {
            self.groundTruth = groundTruth
            self.predicted = predicted
            self.method = method
        }
    }

    /// A ranked list of frames to pick from (confusion cell, worst frames).
    public struct FrameList: Equatable, Sendable {
        public struct Entry: Equatable, Sendable {
            public var sequence: Int, frame: Int
            public var key: String
            /// Pixels of the listed confusion in that frame.
            public var pixels: Int64
        }
        public var title: String
        public var entries: [Entry]
        public var selected = 0
        /// Set on the frames jumped to from the list.
        public var highlight: Highlight?
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
    /// Confidence every method must reach for an annotation suspect.
    public var suspectTau: Float = 0.90
    /// The methods compared (flips, Δ, confidence change): `compared` against `reference`.
    public var reference: String?
    public var compared: String?
    /// Set once the user picks either method with m or M.
    public var methodsChosen = false
    public var flipsInBandOnly = false
    public var panel = Panel.none
    public var scope = Scope.frame
    public var iouSort = IoUSort.byClass
    public var panelMetric = PanelMetric.iou
    public var sparkMetric = SparkMetric.meanIoU
    public var selectedRow = 0
    /// Confusion panel cursor: ground-truth row and predicted column (column K = no evaluated class).
    public var confusionRow = 0
    public var confusionColumn = 0
    public var frameList: FrameList?
    public var highlight: Highlight?
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
    public var helpScroll = 0
    /// The strip naming the classes of the frame by colour.
    public var classLegend = true
    public var playing = false
    public var fps: Double = 5
    public var prompt: (kind: PromptKind, text: String)?
    public var message: String?

    public init() {}

    public static func == (a: ViewState, b: ViewState) -> Bool {
        a.sequence == b.sequence && a.frame == b.frame && a.layout == b.layout && a.singlePane == b.singlePane
            && a.mode == b.mode && a.overlay == b.overlay && a.opacity == b.opacity && a.tau == b.tau
            && a.radius == b.radius && a.suspectTau == b.suspectTau && a.reference == b.reference
            && a.compared == b.compared && a.methodsChosen == b.methodsChosen && a.flipsInBandOnly == b.flipsInBandOnly
            && a.panel == b.panel && a.scope == b.scope && a.iouSort == b.iouSort && a.panelMetric == b.panelMetric && a.sparkMetric == b.sparkMetric && a.selectedRow == b.selectedRow
            && a.confusionRow == b.confusionRow && a.confusionColumn == b.confusionColumn && a.frameList == b.frameList
            && a.highlight == b.highlight && a.focusedClass == b.focusedClass && a.rangeStart == b.rangeStart
            && a.rangeEnd == b.rangeEnd && a.inspect == b.inspect && a.cursor == b.cursor && a.zoom == b.zoom
            && a.centerX == b.centerX && a.centerY == b.centerY && a.showHelp == b.showHelp && a.helpScroll == b.helpScroll
            && a.classLegend == b.classLegend && a.playing == b.playing
            && a.fps == b.fps && a.prompt?.kind == b.prompt?.kind && a.prompt?.text == b.prompt?.text && a.message == b.message
    }
}
