import Foundation

/// torch.optim.AdamW (decoupled weight decay, bias-corrected moments) over
/// the flat parameter vector.
public struct AdamW: Sendable {
    public var learningRate: Double
    public var weightDecay: Double
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public internal(set) var step = 0
    public internal(set) var firstMoment: [Double]
    public internal(set) var secondMoment: [Double]

    public init(count: Int, learningRate: Double, weightDecay: Double) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        firstMoment = [Double](repeating: 0, count: count)
        secondMoment = firstMoment
    }

    /// One update with learning rate `rate` (the schedule's value for this step).
    public mutating func update(_ parameters: inout [Double], gradient: [Double], rate: Double) {
        step += 1
        let correction1 = 1 - pow(beta1, Double(step))
        let correction2 = 1 - pow(beta2, Double(step))
        for i in parameters.indices {
            parameters[i] -= rate * weightDecay * parameters[i]
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * gradient[i]
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * gradient[i] * gradient[i]
            parameters[i] -=
                rate * (firstMoment[i] / correction1) / ((secondMoment[i] / correction2).squareRoot() + epsilon)
        }
    }

    /// Restores a saved state (resuming).
    public mutating func restore(step: Int, firstMoment: [Double], secondMoment: [Double]) {
        precondition(firstMoment.count == self.firstMoment.count && secondMoment.count == self.secondMoment.count)
        (self.step, self.firstMoment, self.secondMoment) = (step, firstMoment, secondMoment)
    }
}
