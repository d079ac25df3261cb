import Glibc

/// A file of named tensors, as weights come: safetensors or a PyTorch
/// checkpoint (`.pth`). Readers of weights depend on this, not on a format.
public protocol TensorFile: Sendable {
    var path: String { get }
    /// The format as a person names it ("safetensors", "PyTorch zip", ...).
    var formatName: String { get }
    /// String metadata (safetensors' __metadata__; empty for PyTorch files).
    var metadata: [String: String] { get }
    /// Tensor names in file order.
    var tensorNames: [String] { get }
    func shape(of name: String) -> [Int]?
    /// The elements converted to Float in row-major order.
    func floats(_ name: String) throws -> [Float]
}

extension SafetensorsFile: TensorFile {
    public var formatName: String { "safetensors" }
    public var tensorNames: [String] { tensors.map(\.name) }
    public func shape(of name: String) -> [Int]? { tensor(name)?.shape }
}

public enum TensorFiles {
    /// Opens weights by content: a zip archive, or a pickle that starts with
    /// torch's legacy magic number (PROTO 2, LONG1 of 10 bytes), is a PyTorch
    /// checkpoint; anything else is read as safetensors.
    public static func open(path: String) throws -> any TensorFile {
        var head = [UInt8](repeating: 0, count: 4)
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            var info = stat()
            if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG { _ = read(fd, &head, 4) }
        }
        if head == [0x50, 0x4b, 0x03, 0x04] || head == [0x80, 0x02, 0x8a, 0x0a] {
            return try PyTorchCheckpoint(path: path)
        }
        return try SafetensorsFile(path: path)
    }
}
