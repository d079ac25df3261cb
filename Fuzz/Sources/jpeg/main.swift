import Foundation
import FuzzDriver
import SegFormats

/// JPEG frames through the libjpeg-turbo shim, from memory (the decoder reads no file of its own).
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = try? JPEG.decode(UnsafeRawBufferPointer(start: data, count: size), path: "fuzz.jpg", maxSide: 4096)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
