/// The three predictions of the paper's system, in pipeline order: the
/// backbone's classifier on f[T], after STF, after MAR.
public enum Stage: String, CaseIterable, Sendable, Comparable {
    case baseline, stf, mar

    public static func < (a: Stage, b: Stage) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
