/// Where things go on the screen, computed once per paint from the model
/// and the screen size. The controller keeps the painted one to hit-test clicks.
public struct ScreenLayout: Sendable {
    public struct PaneRect: Sendable {
        public var pane: Pane
        public var x: Int, y: Int, width: Int, height: Int
    }
    public var panes: [PaneRect]
    /// The side panel (IoU, confusion, fixed/broken or the explain view's): its left column and width.
    public var panel: (x: Int, width: Int)?
    public var sparkRows: Int
    public var statusRow: Int
    public var legendRow: Int?
    public var inspectorRow: Int?
    /// Rows above the bottom strips (panes and panel).
    public var areaHeight: Int
    /// The legend strip's entries (its row exists only when there are some).
    public var legend: [LegendEntry]

    public init(model: ViewModel, width: Int, height: Int) {
        let state = model.state
        legend = Legend.entries(model)
        statusRow = height - 1
        legendRow = legend.isEmpty ? nil : statusRow - 1
        var bottom = statusRow - (legendRow == nil ? 0 : 1)
        inspectorRow = state.inspector.on ? bottom - 1 : nil
        if inspectorRow != nil { bottom -= 1 }
        sparkRows = Sparklines.rows(model, height: height)
        areaHeight = bottom - sparkRows
        var panelWidth: Int
        switch state.panel.kind {
        case .none: panelWidth = 0
        case .iou: panelWidth = IoUPanel.width(model, screenWidth: width)
        case .confusion: panelWidth = ConfusionPanel.width(model, screenWidth: width)
        case .attribution: panelWidth = MemoryAttributionPanel.width(model, screenWidth: width)
        }
        if state.explain.on { panelWidth = ExplainView.panelWidth(screenWidth: width) }
        let areaWidth = width - panelWidth
        panel = panelWidth > 0 ? (areaWidth, panelWidth) : nil
        let all = model.panes
        let shown: [Pane]
        switch state.panes.layout {
        case .single: shown = all.isEmpty ? [] : [all[min(state.panes.singlePane, all.count - 1)]]
        case .grid, .row: shown = all
        }
        let (columns, rows) = Compositor.arrangement(count: shown.count, layout: state.panes.layout)
        let cellWidth = areaWidth / columns
        let cellHeight = areaHeight / rows
        panes = shown.enumerated().map { i, pane in
            PaneRect(
                pane: pane, x: (i % columns) * cellWidth, y: (i / columns) * cellHeight, width: cellWidth,
                height: cellHeight)
        }
    }

    /// Image pixel under screen cell (column, row) inside a pane, for mouse clicks.
    public func imagePoint(column: Int, row: Int, model: ViewModel) -> ViewState.Point? {
        guard let frame = model.frame, frame.width > 0 else { return nil }
        for rect in panes
        where column >= rect.x && column < rect.x + rect.width - 1 && row > rect.y
            && row < rect.y + rect.height
        {
            let v = ZoomUnit.viewport(model.state, imageWidth: frame.width, imageHeight: frame.height)
            let size = Compositor.pixelSize(viewport: v, columns: rect.width - 1, rows: rect.height - 1)
            let (left, top) = Compositor.imageRect(
                x: rect.x, y: rect.y, width: rect.width, height: rect.height,
                size: size)
            let px = column - left
            let py = (row - top) * 2
            guard px >= 0, px < size.width, py >= 0, py < size.height else { return nil }
            return ViewState.Point(
                x: Int(v.x0 + (Float(px) + 0.5) / Float(size.width) * (v.x1 - v.x0)),
                y: Int(v.y0 + (Float(py) + 0.5) / Float(size.height) * (v.y1 - v.y0)))
        }
        return nil
    }
}
