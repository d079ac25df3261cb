/// A frame's identity, taken from file names so that frames, ground truth,
/// predictions, confidences and features of one frame find each other:
/// - Cityscapes `<city>_<seq>_<frame>[_suffix].png`: key `<city>_<seq>_<frame>`,
///   sequence `<city>_<seq>`;
/// - CamVid `<seq>_<frame>[_suffix].png` (`0001TP_006690`, `Seq05VD_f00000`):
///   key `<seq>_<frame>`, sequence `<seq>`;
/// - anything else: the file name without extension and known suffixes is the
///   key; frames form one sequence ordered by their trailing number.
public struct FrameKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let key: String
    public let sequence: String
    public let index: Int

    public var description: String { key }

    public static func < (a: FrameKey, b: FrameKey) -> Bool {
        (a.sequence, a.index, a.key) < (b.sequence, b.index, b.key)
    }

    /// Suffixes that name what a file holds, not which frame it is.
    static let roleSuffixes = [
        "_leftImg8bit", "_gtFine_labelTrainIds", "_gtFine_labelIds", "_gtFine_color", "_gtFine_instanceIds",
        "_gtCoarse_labelTrainIds", "_gtCoarse_labelIds", "_gtCoarse_color", "_labelTrainIds", "_labelIds",
        "_color", "_pred", "_prediction", "_conf", "_confidence", "_L", "_features",
    ]

    public init(key: String, sequence: String, index: Int) {
        self.key = key
        self.sequence = sequence
        self.index = index
    }

    public init?(fileName: String) {
        var stem = Substring(fileName)
        if let dot = stem.lastIndex(of: ".") { stem = stem[..<dot] }
        guard !stem.isEmpty else { return nil }
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        func digits(_ s: Substring) -> Int? { s.isEmpty || !s.allSatisfy(\.isNumber) ? nil : Int(s) }
        if parts.count >= 3, let frame = digits(parts[2]), digits(parts[1]) != nil, !parts[0].isEmpty {
            self.init(
                key: parts[0..<3].joined(separator: "_"), sequence: parts[0..<2].joined(separator: "_"), index: frame)
            return
        }
        if parts.count >= 2, !parts[0].isEmpty {
            let frameText = parts[1].first?.isLetter == true ? parts[1].dropFirst() : parts[1]
            if let frame = digits(frameText) {
                self.init(key: parts[0..<2].joined(separator: "_"), sequence: String(parts[0]), index: frame)
                return
            }
        }
        var key = String(stem)
        for suffix in FrameKey.roleSuffixes where key.hasSuffix(suffix) && key.count > suffix.count {
            key.removeLast(suffix.count)
            break
        }
        let trailing = key.reversed().prefix { $0.isNumber }
        self.init(key: key, sequence: "", index: Int(String(trailing.reversed())) ?? 0)
    }
}
