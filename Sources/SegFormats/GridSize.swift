import Foundation

/// A height x width pair as users write it on the command line ("256x512")
/// and as weights metadata stores it ("16,16"). Both spellings are parsed
/// here and nowhere else.
public struct GridSize: Hashable, Sendable, CustomStringConvertible {
    public let height: Int, width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// "HxW" with positive integers (case-insensitive x).
    public init?(parsing text: String) {
        self.init(text, separator: "x")
    }

    /// "H,W" with positive integers, the `block_size` metadata of weights files.
    public init?(metadata text: String) {
        self.init(text, separator: ",")
    }

    private init?(_ text: String, separator: Character) {
        let parts = text.lowercased().split(separator: separator, omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let h = parts[0], let w = parts[1], h > 0, w > 0 else { return nil }
        (height, width) = (h, w)
    }

    public var description: String { "\(height)x\(width)" }
    public var metadata: String { "\(height),\(width)" }
    public var area: Int { height * width }
}

/// A frame's size in pixels.
public typealias ImageSize = GridSize
/// STF's attention block (HB x WB feature cells).
public typealias BlockSize = GridSize
