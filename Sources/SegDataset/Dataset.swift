import SegLabels

/// Everything known about one frame: where its files are. Nothing is decoded
/// until a `FrameLoader` is asked to.
public struct FrameRecord: Sendable, Equatable {
    public let id: FrameKey
    public var image: String?
    public var groundTruth: String?
    /// Cityscapes `*_gtFine_instanceIds.png` (instance-level scores).
    public var instances: String?
    public var features: String?
    /// Method name -> prediction file.
    public var predictions: [String: String] = [:]
    /// Method name -> confidence file (16-bit PNG or npy).
    public var confidences: [String: String] = [:]

    public init(id: FrameKey) { self.id = id }
    public var key: String { id.key }
}

public struct SequenceRecord: Sendable, Equatable {
    public let name: String
    /// Ordered by frame index.
    public let frames: [FrameRecord]
}

/// A method's folders, from a manifest or `--pred NAME=DIR --conf NAME=DIR`.
public struct MethodSource: Sendable, Equatable {
    public var name: String
    public var predictions: String?
    public var confidences: String?
    public var encoding: LabelEncoding?

    public init(name: String, predictions: String? = nil, confidences: String? = nil, encoding: LabelEncoding? = nil) {
        self.name = name
        self.predictions = predictions
        self.confidences = confidences
        self.encoding = encoding
    }
}

/// A discovered dataset: sequences of frames with their files, the label
/// space, and the methods whose predictions it holds.
public struct Dataset: Sendable {
    public enum Layout: String, Sendable { case cityscapes, camvid, vspw, manifest, folders }

    public let root: String
    public let layout: Layout
    public let space: LabelSpace
    public let sequences: [SequenceRecord]
    /// Method names in the order given.
    public let methods: [String]
    public let reference: String?
    public let groundTruthEncoding: LabelEncoding?
    public let predictionEncodings: [String: LabelEncoding]
    /// Where bookmarks of this dataset are kept (a sidecar next to it).
    public let bookmarksPath: String
    /// Things discovery noticed that the user should know (not errors).
    public let notes: [String]
    /// The folders frames, ground truth and features were found in (for manifests of derived runs).
    public var framesFolder: String?
    public var groundTruthFolder: String?
    public var featuresFolder: String?
    /// STF/MAR weights named by the manifest's `weights` key (the viewer's explain view loads them).
    public var weights: String?

    public var frames: [FrameRecord] { sequences.flatMap(\.frames) }
    public var frameCount: Int { sequences.reduce(0) { $0 + $1.frames.count } }

    public init(
        root: String, layout: Layout, space: LabelSpace, sequences: [SequenceRecord], methods: [String],
        reference: String?, groundTruthEncoding: LabelEncoding?, predictionEncodings: [String: LabelEncoding],
        bookmarksPath: String, notes: [String]
    ) {
        self.root = root
        self.layout = layout
        self.space = space
        self.sequences = sequences
        self.methods = methods
        self.reference = reference
        self.groundTruthEncoding = groundTruthEncoding
        self.predictionEncodings = predictionEncodings
        self.bookmarksPath = bookmarksPath
        self.notes = notes
    }

    /// STF's window of frame `i` of `frames` (frames of one sequence in
    /// order, possibly a subset such as those with features): T-1 and T+1
    /// when they are the adjacent frame numbers, else the frame itself stands
    /// in (sequence ends and gaps).
    public static func slidingWindow(_ frames: [FrameRecord], _ i: Int) -> (previous: FrameRecord, next: FrameRecord) {
        let frame = frames[i]
        let previous = i > 0 && frames[i - 1].id.index == frame.id.index - 1 ? frames[i - 1] : frame
        let next = i + 1 < frames.count && frames[i + 1].id.index == frame.id.index + 1 ? frames[i + 1] : frame
        return (previous, next)
    }

    /// The one way frames are named, by `view`'s `:` prompt and `--frame`
    /// and by `render --frame`: a frame key; or `N`, the N-th frame of the
    /// dataset (1-based, in sequence order); or `S/N`, frame N of sequence S
    /// (both 1-based, as the viewer's status line writes them). A key wins
    /// over a number that reads the same.
    public func locate(_ text: String) -> (sequence: Int, frame: Int)? {
        for (s, sequence) in sequences.enumerated() {
            if let f = sequence.frames.firstIndex(where: { $0.key == text }) { return (s, f) }
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let s = Int(parts[0]), let f = Int(parts[1]), sequences.indices.contains(s - 1),
            sequences[s - 1].frames.indices.contains(f - 1)
        {
            return (s - 1, f - 1)
        }
        if parts.count == 1, var position = Int(text), position >= 1 {
            position -= 1
            for (s, sequence) in sequences.enumerated() {
                if position < sequence.frames.count { return (s, position) }
                position -= sequence.frames.count
            }
        }
        return nil
    }
}
