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
    @Option(help: "Only shard K of N (0 <= K < N): the sequences i with i mod N = K. Default in a Slurm array job: the task's own shard.")
    var shard: Shard?

    /// The dataset restricted to this process's shard, saying so on stderr when Slurm chose it.
    func apply(_ data: Dataset) -> Dataset {
        if let shard { return data.restricted(to: shard) }
        if let slurm = Shard.slurm(ProcessInfo.processInfo.environment) {
            warn("shard \(slurm) of the sequences (from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT; --shard 0/1 for all)")
            return data.restricted(to: slurm)
        }
        return data
    }
}
