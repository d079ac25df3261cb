import Foundation
import FuzzDriver
import SegFormats
import SegLabels

/// Parsers that read files get the input through a file in /dev/shm, as a user's file would arrive.
let path = "/dev/shm/segscope-fuzz-\(getpid()).png"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return 0 }
    // Encoding detection and decoding, in every label space, of whatever PNG arrives.
    guard let image = try? PNG.read(path: path, maxSide: 4096) else { return 0 }
    for space in [LabelSpace.cityscapes, .camvid] {
        if let decision = try? space.detectEncoding(of: image, path: path) {
            _ = try? space.decode(image, encoding: decision.encoding, path: path)
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
