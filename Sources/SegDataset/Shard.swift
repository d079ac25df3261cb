/// One of N disjoint parts of a dataset's work, split by sequence so that
/// every STF window stays inside one part: sequence i belongs to shard
/// i mod N. N shards together cover every sequence exactly once.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based, as Slurm's array task ids usually are.
    public let index: Int, count: Int

    public init?(index: Int, count: Int) {
        guard count > 0, index >= 0, index < count else { return nil }
        (self.index, self.count) = (index, count)
    }

    /// "K/N" with 0 <= K < N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let k = parts[0], let n = parts[1] else { return nil }
        self.init(index: k, count: n)
    }

    /// The shard of a Slurm array task: SLURM_ARRAY_TASK_ID counted from
    /// SLURM_ARRAY_TASK_MIN (0 if unset) out of SLURM_ARRAY_TASK_COUNT.
    public static func slurm(_ environment: [String: String]) -> Shard? {
        guard let id = environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }),
            let count = environment["SLURM_ARRAY_TASK_COUNT"].flatMap({ Int($0) })
        else { return nil }
        return Shard(index: id - (environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0), count: count)
    }

    public var description: String { "\(index)/\(count)" }
}

extension Dataset {
    /// The same dataset with only the sequences of `shard`.
    public func restricted(to shard: Shard) -> Dataset {
        var copy = Dataset(
            root: root, layout: layout, space: space,
            sequences: sequences.enumerated().filter { $0.offset % shard.count == shard.index }.map(\.element),
            methods: methods, reference: reference, groundTruthEncoding: groundTruthEncoding,
            predictionEncodings: predictionEncodings, bookmarksPath: bookmarksPath, notes: notes)
        (copy.framesFolder, copy.groundTruthFolder, copy.featuresFolder) = (
            framesFolder, groundTruthFolder, featuresFolder
        )
        return copy
    }
}
