import Foundation
import SegFormats
import SegTestSupport
import Testing

@Suite struct SafetensorsTests {
    /// tiny.safetensors was written by the Python `safetensors` package.
    @Test func readsPythonFixtureIdentically() throws {
        let file = try SafetensorsFile(path: Fixtures.path("tiny.safetensors"))
        let expected = try Fixtures.json("tiny.safetensors.json")
        #expect(file.metadata == ["heads": "2", "block_size": "16,16"])
        #expect(Set(file.tensors.map(\.name)) == Set(expected.keys))
        for (name, entry) in expected {
            let entry = entry as! [String: Any]
            let tensor = try #require(file.tensor(name))
            #expect(tensor.shape == entry["shape"] as! [Int])
            let values = (entry["values"] as! [NSNumber]).map(\.doubleValue)
            if tensor.elementType.isInteger {
                #expect(try file.int64s(name).map(Double.init) == values, "\(name)")
            } else {
                #expect(try file.floats(name).map(Double.init) == values, "\(name)")
            }
        }
        #expect(file.tensor("weight_f16")?.elementType == .float16)
        #expect(file.tensor("ids_i64")?.elementType == .int64)
    }

    @Test func roundTripThroughPython() throws {
        let directory = try TestSupport.scratchDirectory()
        var writer = SafetensorsWriter(metadata: ["heads": "4"])
        writer.add("a", (0..<6).map { Float($0) - 2.5 }, shape: [2, 3])
        writer.add("b", [Float16(1.5), Float16(-0.25)], shape: [2])
        writer.add("c", [UInt8(3), 200], shape: [1, 2])
        try writer.write(to: directory + "/w.safetensors")
        let back = try SafetensorsFile(path: directory + "/w.safetensors")
        #expect(try back.floats("a") == (0..<6).map { Float($0) - 2.5 })
        #expect(try back.floats("b") == [1.5, -0.25])
        #expect(back.metadata == ["heads": "4"])
        let printed = try TestSupport.python(
            """
            import sys
            from safetensors.numpy import load_file
            from safetensors import safe_open
            t = load_file(sys.argv[1])
            assert t["a"].tolist() == [[-2.5, -1.5, -0.5], [0.5, 1.5, 2.5]], t["a"]
            assert t["b"].tolist() == [1.5, -0.25]
            assert t["c"].tolist() == [[3, 200]]
            with safe_open(sys.argv[1], "np") as f:
                assert f.metadata() == {"heads": "4"}
            print("ok")
            """, [directory + "/w.safetensors"])
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func bfloat16Converts() throws {
        // bf16 is the top half of a float32: 1.0 = 0x3f80, -2.5 = 0xc020.
        let directory = try TestSupport.scratchDirectory()
        let header = Array(#"{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#.utf8)
        var bytes = (0..<8).map { UInt8((header.count >> (8 * $0)) & 0xff) } + header
        bytes += [0x80, 0x3f, 0x20, 0xc0]
        try TestSupport.write(bytes, to: directory + "/bf.safetensors")
        #expect(try SafetensorsFile(path: directory + "/bf.safetensors").floats("x") == [1.0, -2.5])
    }
}

@Suite struct JSONTests {
    @Test func parsesAndSerializes() throws {
        let value = try JSON.parse(#"{"a": [1, 2.5, -3e2, true, null], "b": {"c": "\u00e9\n\ud83d\ude00"}}"#)
        #expect(value["a"] == .array([.number(1), .number(2.5), .number(-300), .bool(true), .null]))
        #expect(value["b"]?["c"]?.string == "é\n😀")
        #expect(try JSON.parse(value.serialized) == value)
        #expect(try JSON.parse(value.pretty) == value)
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, "[1,]", "{\"a\" 1}", "\"abc", "01x", "[1] 2", "{\"x\":tru}", "\"\\ud800\""])
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }
}
