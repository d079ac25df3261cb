import SegFormats

/// One row of a label table, in the form of cityscapesScripts' `labels.py`:
/// `id` is the labelId stored in `*_labelIds.png`, `trainId` the class index the
/// networks predict (255 = ignored in training and evaluation).
public struct LabelDefinition: Sendable, Equatable {
    public let name: String
    public let id: Int
    public let trainId: Int
    public let category: String
    public let categoryId: Int
    public let hasInstances: Bool
    public let ignoreInEval: Bool
    public let color: RGB

    public init(
        _ name: String, _ id: Int, _ trainId: Int, _ category: String, _ categoryId: Int,
        _ hasInstances: Bool, _ ignoreInEval: Bool, _ color: RGB
    ) {
        self.name = name
        self.id = id
        self.trainId = trainId
        self.category = category
        self.categoryId = categoryId
        self.hasInstances = hasInstances
        self.ignoreInEval = ignoreInEval
        self.color = color
    }
}

/// A set of classes that predictions and ground truth are expressed in. Class
/// `k` (0..<count) is trainId k; 255 is the ignore value everywhere.
public struct LabelSpace: Sendable, Equatable {
    public static let ignore: UInt8 = 255

    public let name: String
    /// The full label table, including labels that are not evaluated.
    public let labels: [LabelDefinition]
    /// Evaluated classes in trainId order.
    public let classes: [LabelDefinition]
    /// Category names in categoryId order (only categories with evaluated classes).
    public let categories: [String]
    /// labelId (0...255) -> trainId (255 = ignore).
    public let labelIdToTrainId: [UInt8]
    /// trainId -> labelId of the class's official label (255 for ignore).
    public let trainIdToLabelId: [UInt8]

    public var count: Int { classes.count }
    public var classNames: [String] { classes.map(\.name) }

    public init(name: String, labels: [LabelDefinition]) {
        self.name = name
        self.labels = labels
        let evaluated = labels.filter { $0.trainId >= 0 && $0.trainId < 255 }
        var byTrainId: [Int: LabelDefinition] = [:]
        for label in evaluated where byTrainId[label.trainId] == nil { byTrainId[label.trainId] = label }
        let classes = byTrainId.keys.sorted().map { byTrainId[$0]! }
        precondition(classes.indices.allSatisfy { classes[$0].trainId == $0 }, "trainIds of \(name) must be 0..<K")
        self.classes = classes
        var categoryNames: [Int: String] = [:]
        for c in classes { categoryNames[c.categoryId] = c.category }
        categories = categoryNames.keys.sorted().map { categoryNames[$0]! }
        var toTrain = [UInt8](repeating: LabelSpace.ignore, count: 256)
        for label in labels where label.id >= 0 && label.id < 256 {
            toTrain[label.id] = label.trainId >= 0 && label.trainId < 255 ? UInt8(label.trainId) : LabelSpace.ignore
        }
        labelIdToTrainId = toTrain
        var toLabel = [UInt8](repeating: LabelSpace.ignore, count: 256)
        for c in classes where c.id >= 0 && c.id < 256 { toLabel[c.trainId] = UInt8(c.id) }
        trainIdToLabelId = toLabel
    }

    /// The highest labelId in the table (values above it cannot be labelIds).
    public var maxLabelId: Int { labels.map(\.id).max() ?? 0 }

    /// Colour -> trainId for colour-encoded label images. Colours shared by
    /// several labels (Cityscapes' black voids, pole/polegroup, car/license
    /// plate) resolve to the evaluated class if there is one, else to ignore.
    public var colorToTrainId: [UInt32: UInt8] {
        var map: [UInt32: UInt8] = [:]
        for label in labels {
            let trainId: UInt8 = label.trainId >= 0 && label.trainId < 255 ? UInt8(label.trainId) : LabelSpace.ignore
            if let existing = map[label.color.packed], existing != LabelSpace.ignore { continue }
            map[label.color.packed] = trainId
        }
        return map
    }

    public func index(ofClass name: String) -> Int? { classes.firstIndex { $0.name == name } }

    public static let builtIn: [String: LabelSpace] = ["cityscapes": .cityscapes, "camvid": .camvid, "vspw": .vspw]

    public static func named(_ name: String) -> LabelSpace? { builtIn[name.lowercased()] }
}
