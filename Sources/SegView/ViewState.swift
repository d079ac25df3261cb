/// Everything the user has chosen in the viewer. The compositor draws from
/// this (and the loaded data) alone; keys change it through the key table.
/// Each unit of the viewer (a file under Units/) declares its slice as a
/// nested type; this struct only lists them, so equality is synthesized.
public struct ViewState: Equatable, Sendable {
    public enum Layout: String, CaseIterable, Sendable { case grid, row, single }

    /// What the first pane shows besides the class maps. Each mark mode
    /// declares its own value in its unit file (`extension ViewState.Mode`).
    public struct Mode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let classes = Mode(rawValue: "classes")
        public var description: String { rawValue }
    }

    public struct Point: Equatable, Sendable {
        public var x: Int, y: Int
        public init(x: Int, y: Int) {
            self.x = x
            self.y = y
        }
    }

    public var sequence = 0
    public var frame = 0
    public var mode = Mode.classes
    /// One line for the status bar, cleared by the next key.
    public var message: String?

    public var panes = PaneOptions()
    public var playback = Playback()
    public var methods = MethodChoice()
    public var confidence = ConfidenceOptions()
    public var flips = FlipOptions()
    public var suspects = SuspectOptions()
    public var sparkMetric = SparkMetric.meanIoU
    public var panel = SidePanel()
    public var iou = IoUPanelState()
    public var confusion = ConfusionCursor()
    public var frameList: FrameList?
    public var highlight: Highlight?
    public var inspector = InspectorState()
    public var explain = ExplainState()
    public var zoom = ZoomState()
    public var help = HelpState()
    public var prompt: Prompt?

    public init() {}
}
