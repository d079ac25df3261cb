import Testing

@testable import SegTrain

/// Central finite differences in float64: for a scalar function f of a
/// vector, (f(x + h e_i) - f(x - h e_i)) / 2h compared with the analytic
/// gradient on a spread of coordinates. With h = 1e-5 the truncation error is
/// ~1e-10 relative; the tolerance 1e-6 (relative to max(1, |g|)) leaves room
/// for rounding in the sums and still fails for any wrong term.
enum GradientCheck {
    static let step = 1e-5
    static let tolerance = 1e-6

    /// Deterministic values in [-1, 1).
    static func values(_ n: Int, seed: UInt64) -> [Double] {
        var random = TrainingRandom(seed: seed, name: "test")
        return (0..<n).map { _ in 2 * random.unit() - 1 }
    }

    /// Up to `limit` coordinates spread over 0..<n (always the first and last).
    static func coordinates(_ n: Int, limit: Int = 40) -> [Int] {
        n <= limit ? Array(0..<n) : (0..<limit).map { $0 * (n - 1) / (limit - 1) }
    }

    /// Largest scaled difference between `analytic` and the central differences of `f` at `x`.
    static func worst(_ x: [Double], analytic: [Double], limit: Int = 40, _ f: ([Double]) -> Double) -> Double {
        precondition(x.count == analytic.count)
        var worst = 0.0
        for i in coordinates(x.count, limit: limit) {
            var plus = x
            var minus = x
            plus[i] += step
            minus[i] -= step
            let numeric = (f(plus) - f(minus)) / (2 * step)
            worst = max(worst, abs(numeric - analytic[i]) / max(1, abs(analytic[i])))
        }
        return worst
    }

    /// sum(r * y): a scalar whose gradient with respect to y is r.
    static func project(_ y: [Double], _ r: [Double]) -> Double { zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
}
