import SegFormats

/// Why a dataset could not be opened or a frame not loaded; each names its path.
public enum DatasetError: Error, Equatable, CustomStringConvertible, Sendable {
    case notADataset(path: String, reason: String)
    case missingFolder(path: String, role: String)
    case manifest(path: String, problem: String)
    case sizeMismatch(path: String, size: String, reference: String, referenceSize: String)
    case differentSize(path: String, size: String, reference: String, referenceSize: String)
    case noFrames(path: String)
    case badOption(String)
    case missingPrediction(method: String, count: Int, examples: [String])

    public var description: String {
        let shown = FileName.display
        switch self {
        case .notADataset(let path, let reason): return "\(shown(path)): not a dataset: \(reason)"
        case .missingFolder(let path, let role):
            return "\(shown(path)): \(role) folder does not exist or is not a folder"
        case .manifest(let path, let problem): return "\(shown(path)): bad manifest: \(problem)"
        case .sizeMismatch(let path, let size, let reference, let referenceSize):
            return "\(shown(path)): size \(size) does not match \(shown(reference)) (\(referenceSize))"
                + " and is no integer fraction of it"
        case .differentSize(let path, let size, let reference, let referenceSize):
            return "\(shown(path)): frame is \(size) but its ground truth \(shown(reference)) is \(referenceSize)"
        case .noFrames(let path): return "\(shown(path)): no frames found"
        case .badOption(let text): return text
        case .missingPrediction(let method, let count, let examples):
            let named = examples.map(shown).joined(separator: ", ")
            return "method '\(method)' has no prediction for \(count) frame(s), e.g. \(named)"
        }
    }
}
