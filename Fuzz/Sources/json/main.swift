import Foundation
import FuzzDriver
import SegFormats
import SegLabels

/// Parsers that read files get the input through a file in /dev/shm, as a user's file would arrive.
let path = "/dev/shm/segscope-fuzz-\(getpid()).json"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    _ = try? JSON.parse(UnsafeRawBufferPointer(bytes))
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
