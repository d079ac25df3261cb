import Foundation
import SegFormats
import SegTestSupport
import Testing

/// Interoperability with numpy itself: numpy writes, segscope reads, and the
/// other way round. Values are a formula both sides compute: v[i] = i * 0.5 - 3
/// (integers: i * 7 - 20, unsigned: i * 7 % 256).
@Suite struct NpyInteropTests {
    static let dtypes = ["<f4", "<f2", "<f8", "|u1", "<u2", "<i4", "<i8"]

    static func expected(_ dtype: String, _ i: Int) -> Double {
        switch dtype {
        case "|u1": return Double(i * 7 % 256)
        case "<u2": return Double(i * 7 % 65536)
        case "<i4", "<i8": return Double(i * 7 - 20)
        default: return Double(i) * 0.5 - 3
        }
    }

    @Test(arguments: dtypes)
    func readsNumpyFiles(dtype: String) throws {
        let directory = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import sys, numpy as np
            d, out = sys.argv[1], sys.argv[2]
            i = np.arange(24)
            if d in ("|u1", "<u2"): v = (i * 7) % (256 if d == "|u1" else 65536)
            elif d in ("<i4", "<i8"): v = i * 7 - 20
            else: v = i * 0.5 - 3
            a = v.astype(np.dtype(d)).reshape(2, 3, 4)
            np.save(out + "/c.npy", a)
            np.save(out + "/f.npy", np.asfortranarray(a))
            np.save(out + "/v2.npy", a)
            np.lib.format.write_array(open(out + "/v2.npy", "wb"), a, version=(2, 0))
            np.lib.format.write_array(open(out + "/v3.npy", "wb"), a, version=(3, 0))
            np.save(out + "/one.npy", a.ravel())
            """, [dtype, directory])
        let want = (0..<24).map { Self.expected(dtype, $0) }
        for name in ["c", "f", "v2", "v3"] {
            let array = try Npy.read(path: directory + "/\(name).npy")
            #expect(array.shape == [2, 3, 4])
            #expect(array.fortranOrder == (name == "f"))
            #expect(array.doubles() == want, "\(dtype) \(name)")
            #expect(array.floats() == want.map(Float.init))
        }
        #expect(try Npy.read(path: directory + "/v2.npy").version == 2)
        #expect(try Npy.read(path: directory + "/v3.npy").version == 3)
        #expect(try Npy.read(path: directory + "/one.npy").shape == [24])
        if dtype != "<f4" && dtype != "<f2" && dtype != "<f8" {
            #expect(try Npy.read(path: directory + "/c.npy").int64s() == want.map { Int64($0) })
        }
    }

    @Test func fortranOrderIn4D() throws {
        let directory = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import sys, numpy as np
            a = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)
            np.save(sys.argv[1] + "/f.npy", np.asfortranarray(a))
            """, [directory])
        let array = try Npy.read(path: directory + "/f.npy")
        #expect(array.shape == [2, 3, 4, 5] && array.fortranOrder)
        #expect(array.floats() == (0..<120).map(Float.init))
    }

    @Test func numpyReadsWhatSegscopeWrites() throws {
        let directory = try TestSupport.scratchDirectory()
        let f: [Float] = (0..<24).map { Float($0) * 0.5 - 3 }
        try Npy.write(f, shape: [2, 3, 4], to: directory + "/f4.npy")
        try Npy.write(f.map(Float16.init), shape: [24], to: directory + "/f2.npy")
        try Npy.write(f.map(Double.init), shape: [4, 6], to: directory + "/f8.npy")
        try Npy.write((0..<24).map { UInt8($0 * 7 % 256) }, shape: [24], to: directory + "/u1.npy")
        try Npy.write((0..<24).map { UInt16($0 * 7) }, shape: [24], to: directory + "/u2.npy")
        try Npy.write((0..<24).map { Int32($0 * 7 - 20) }, shape: [1, 24], to: directory + "/i4.npy")
        try Npy.write((0..<24).map { Int64($0 * 7 - 20) }, shape: [2, 2, 2, 3], to: directory + "/i8.npy")
        let printed = try TestSupport.python(
            """
            import sys, numpy as np
            d = sys.argv[1]
            i = np.arange(24)
            checks = {
              "f4": ((2, 3, 4), "<f4", i * 0.5 - 3), "f2": ((24,), "<f2", i * 0.5 - 3),
              "f8": ((4, 6), "<f8", i * 0.5 - 3), "u1": ((24,), "|u1", i * 7 % 256),
              "u2": ((24,), "<u2", i * 7), "i4": ((1, 24), "<i4", i * 7 - 20),
              "i8": ((2, 2, 2, 3), "<i8", i * 7 - 20)}
            for name, (shape, dtype, values) in checks.items():
                a = np.load(d + "/" + name + ".npy")
                assert a.shape == shape, (name, a.shape)
                assert a.dtype == np.dtype(dtype), (name, a.dtype)
                assert np.array_equal(a.ravel().astype(np.float64), values.astype(np.float64)), name
            print("ok")
            """, [directory])
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func largeHeaderUsesVersion2() throws {
        // A 4-D shape cannot need more than 65535 header bytes, so version 1 is
        // always written; the payload must start on a 64-byte boundary.
        let bytes = Npy.encode([Float](repeating: 1, count: 6), shape: [1, 2, 3, 1])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect(bytes[6] == 1)
        #expect((10 + headerLength) % 64 == 0)
    }
}
