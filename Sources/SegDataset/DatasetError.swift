/// Why a dataset could not be opened or a frame not loaded; each names its path.
public enum DatasetError: Error, Equatable, CustomStringConvertible, Sendable {
    case notADataset(path: String, reason: String)
    case missingFolder(path: String, role: String)
    case manifest(path: String, problem: String)
    case sizeMismatch(path: String, size: String, reference: String, referenceSize: String)
    case noFrames(path: String)
    case badOption(String)
    case missingPrediction(method: String, count: Int, examples: [String])

    public var description: String {
        switch self {
        case .notADataset(let path, let reason): return "\(path): not a dataset: \(reason)"
        case .missingFolder(let path, let role): return "\(path): \(role) folder does not exist or is not a folder"
        case .manifest(let path, let problem): return "\(path): bad manifest: \(problem)"
        case .sizeMismatch(let path, let size, let reference, let referenceSize):
            return "\(path): size \(size) does not match \(reference) (\(referenceSize)) and is no integer fraction of it"
        case .noFrames(let path): return "\(path): no frames found"
        case .badOption(let text): return text
        case .missingPrediction(let method, let count, let examples):
            return "method '\(method)' has no prediction for \(count) frame(s), e.g. \(examples.joined(separator: ", "))"
        }
    }
}
