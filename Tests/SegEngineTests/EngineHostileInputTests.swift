import Foundation
import SegEngine
import SegFormats
import Testing

/// Issue #22's engine cases: malformed metadata and features that cannot be
/// computed with are errors naming what is wrong, never defaults or NaN.
@Suite struct EngineHostileInputTests {
    /// The "small" fixture with its `__metadata__` replaced (tensor offsets are
    /// relative to the header's end, so the payload is kept as it is).
    static func weights(metadata: [String: String]) throws -> String {
        let original = try Data(contentsOf: URL(fileURLWithPath: GoldenTests.fixture("small") + "/weights.safetensors"))
        let length = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: original.subdata(in: 8..<(8 + length))) as! [String: Any]
        header["__metadata__"] = metadata
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        file.append(json)
        file.append(original.subdata(in: (8 + length)..<original.count))
        let path = NSTemporaryDirectory() + "segscope-hostile-\(getpid())-\(UUID().uuidString).safetensors"
        try file.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: ["0,0", "-8,8", "8", "8,8,8", "", "4,x", "99999999999999999999,4"])
    func malformedBlockSizeIsAnErrorNamingTheKey(value: String) throws {
        let path = try Self.weights(metadata: ["heads": "2", "block_size": value])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(
            throws: ModelError.metadata(
                path: path, key: "block_size", value: value, expected: "\"H,W\" with positive integers")
        ) {
            _ = try Model.load(path: path)
        }
    }

    @Test(arguments: ["abc", "0", "-2", "", "2.5"])
    func malformedHeadsIsAnErrorNamingTheKey(value: String) throws {
        let path = try Self.weights(metadata: ["heads": value, "block_size": "4,4"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try Model.load(path: path)
            Issue.record("heads=\(value) was accepted")
        } catch let error as ModelError {
            #expect(error == .metadata(path: path, key: "heads", value: value, expected: "a positive integer"))
            #expect(error.description.contains("metadata heads is \"\(value)\""))
        }
    }

    /// Well-formed metadata is used, and an explicit override wins over it.
    @Test func wellFormedMetadataIsUsed() throws {
        let path = try Self.weights(metadata: ["heads": "4", "block_size": " 2, 4"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let stf = try #require(try Model.load(path: path).stf)
        #expect(stf.heads == 4 && stf.blockHeight == 2 && stf.blockWidth == 4)
        let overridden = try #require(try Model.load(path: path, heads: 2, block: BlockSize(height: 4, width: 4)).stf)
        #expect(overridden.heads == 2 && overridden.blockHeight == 4)
    }

    /// Features [64, 0, 0]: an error, and no BLAS call with a zero dimension.
    @Test func emptyFeaturesAreAnError() throws {
        let model = try Model.load(path: GoldenTests.fixture("small") + "/weights.safetensors")
        #expect(throws: ModelError.geometry("cur.npy: empty (0x0 cells)")) {
            _ = try model.forward(previous: [], current: [], next: [], height: 0, width: 0, input: "cur.npy")
        }
        #expect(throws: ModelError.self) {
            _ = try model.forward(previous: [], current: [], next: [], height: 0, width: 5, input: "cur.npy")
        }
    }

    /// Finite features of 3e38 overflow inside the model: the forward pass
    /// names the input and the stage instead of returning NaN logits.
    @Test func overflowingFeaturesAreAnErrorNamingTheInput() throws {
        let root = GoldenTests.fixture("small")
        let model = try Model.load(path: root + "/weights.safetensors")
        let cur = try Npy.read(path: root + "/cur.npy")
        let (h, w) = (cur.shape[1], cur.shape[2])
        var huge = cur.floats()
        huge[7] = 3e38
        do {
            _ = try model.forward(previous: huge, current: huge, next: huge, height: h, width: w, input: "cur.npy")
            Issue.record("a forward pass over 3e38 gave finite outputs")
        } catch let error as ModelError {
            guard case .nonFiniteOutput(let input, _, _, let value) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(input == "cur.npy" && !value.isFinite)
            #expect(error.description.hasPrefix("cur.npy: the "))
        }
    }

    @Test func nonFiniteFeaturesNameTheFrame() throws {
        let root = GoldenTests.fixture("small")
        let model = try Model.load(path: root + "/weights.safetensors")
        let cur = try Npy.read(path: root + "/cur.npy")
        var bad = cur.floats()
        bad[3] = .infinity
        #expect(throws: ModelError.geometry("next.npy: the features of frame T+1 hold inf at element 3")) {
            _ = try model.forward(
                previous: cur.floats(), current: cur.floats(), next: bad, height: cur.shape[1], width: cur.shape[2],
                input: "next.npy")
        }
    }
}
