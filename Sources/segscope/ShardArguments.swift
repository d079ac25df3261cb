import ArgumentParser
import Foundation
import SegDataset

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// `--shard K/N` for work that a cluster splits (infer, eval): the
/// sequences i with i mod N = K. Without it, a Slurm array task takes its
/// own share from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT.
struct ShardArguments: ParsableArguments {
    @Option(
        help:
            "Only shard K of N (0 <= K < N): the sequences i with i mod N = K. Default in a Slurm array job: the task's own shard."
    )
    var shard: Shard?

    /// The dataset restricted to this process's shard, saying so on stderr when Slurm chose it.
    func apply(_ data: Dataset) -> Dataset {
        guard let shard = chosen else { return data }
        if self.shard == nil {
            warn(
                "shard \(shard) of the sequences (from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT; "
                    + "--shard 0/1 for all)")
        }
        return data.restricted(to: shard)
    }

    /// `apply` for work that needs frames: a shard holding no sequence (more
    /// shards than sequences) is an error saying so, not a later puzzle.
    func nonEmpty(_ data: Dataset) throws -> Dataset {
        let restricted = apply(data)
        guard let shard = chosen, restricted.sequences.isEmpty, !data.sequences.isEmpty else { return restricted }
        let origin = self.shard == nil ? " (from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT)" : ""
        throw InputError(
            "--shard \(shard)\(origin): the dataset has \(data.sequences.count) sequence(s), "
                + "so shard \(shard.index) of \(shard.count) holds none (shard K takes the sequences i with i mod N = K)"
        )
    }

    private var chosen: Shard? { shard ?? Shard.slurm(ProcessInfo.processInfo.environment) }
}
