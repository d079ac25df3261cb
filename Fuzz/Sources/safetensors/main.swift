import Foundation
import FuzzDriver
import SegFormats
import SegLabels

/// Parsers that read files get the input through a file in /dev/shm, as a user's file would arrive.
let path = "/dev/shm/segscope-fuzz-\(getpid()).safetensors"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return 0 }
    if let file = try? SafetensorsFile(path: path) {
        for t in file.tensors where t.count <= 1 << 20 { _ = try? file.floats(t.name) }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
