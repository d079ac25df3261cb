import SegFormats
import SegTestSupport

/// Weights with a 1x1 classifier alone (5 classes, 16 channels): neither STF nor MAR, for the errors of what needs
/// them. Returns the file's path.
func classifierOnlyWeights() throws -> String {
    let path = try TestSupport.scratchDirectory() + "/plain.safetensors"
    var writer = SafetensorsWriter()
    writer.add("classifier.weight", [Float](repeating: 0.1, count: 5 * 16), shape: [5, 16])
    writer.add("classifier.bias", [Float](repeating: 0, count: 5), shape: [5])
    try writer.write(to: path)
    return path
}
