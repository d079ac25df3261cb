import Foundation
import FuzzDriver
import SegDataset
import SegFormats
import SegLabels

/// The input is a dataset folder's segscope.toml: discovery reads it as a user's manifest would arrive.
let folder = "/dev/shm/segscope-fuzz-manifest-\(getpid())"
let path = folder + "/segscope.toml"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return 0 }
    var options = DatasetOptions()
    options.path = folder
    _ = try? DatasetLocator.open(options)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
