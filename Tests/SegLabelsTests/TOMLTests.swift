import Foundation
import SegFormats
import SegLabels
import SegTestSupport
import Testing

/// segscope's TOML parser against Python's tomllib (the reference), on
/// documents that use every supported construct and on malformed ones.
@Suite struct TOMLTests {
    static let valid: [String] = [
        """
        # a theme
        name = "cityscapes \\"dark\\" \\u00e9\\U0001F600"
        label_space = 'custom'
        plain = 'C:\\path'
        int = +1_000
        hex = 0xdead_beef
        oct = 0o755
        bin = 0b1101
        neg = -17
        float = 6.626e-34
        float2 = -0.5
        float3 = 1_000.5E+2
        yes = true
        no = false
        list = [1, 2.5, "three", [4, 5], { a = 1 }, ]
        multi = [
          "a",  # comment
          "b",
        ]
        inline = { x = 1, y.z = "w" }
        "quoted key" = 1
        dotted.key.path = "v"
        text = \"\"\"
        first line
        second \\
            joined\"\"\"
        raw = '''
        keep \\n as is'''

        [roles]
        text = "#d0d0d0"

        [a.b]
        c = 1
        [a]
        d = 2

        [[class]]
        name = "road"
        color = "#804080"
        [[class]]
        name = "sky"
        [class.extra]
        k = 1
        """,
        "",
        "\n\n# only comments\n",
        "key = \"value\" # trailing\r\nother = 1\r\n",
    ]

    @Test func equalsPythonsTomllib() throws {
        let folder = try TestSupport.scratchDirectory()
        for (i, text) in Self.valid.enumerated() {
            try text.write(toFile: "\(folder)/\(i).toml", atomically: true, encoding: .utf8)
            try TOML.parse(text).serialized.write(toFile: "\(folder)/\(i).json", atomically: true, encoding: .utf8)
        }
        let result = try TestSupport.python(
            """
            import json, sys, tomllib
            def norm(v):
                if isinstance(v, dict): return {k: norm(x) for k, x in v.items()}
                if isinstance(v, list): return [norm(x) for x in v]
                if isinstance(v, bool): return v
                if isinstance(v, (int, float)): return float(v)
                return v
            for i in range(int(sys.argv[2])):
                with open("%s/%d.toml" % (sys.argv[1], i), "rb") as f: want = norm(tomllib.load(f))
                with open("%s/%d.json" % (sys.argv[1], i)) as f: got = norm(json.load(f))
                print("same" if got == want else "DIFFERENT %d: %r vs %r" % (i, got, want))
            """, [folder, String(Self.valid.count)])
        #expect(result.split(separator: "\n").allSatisfy { $0 == "same" }, "\(result)")
    }

    /// Inputs that crashed the C++ parser (issue 15), and other malformed
    /// documents tomllib also rejects: each a located error.
    static let invalid: [String] = [
        "[\n", "[#", "[=", "[\\", "[[[", "[é", "[a]\n[a]\n", "a = 1\na = 2\n", "a = \"open\n", "a = [1, 2\n",
        "a = {b = 1\n",
        "a = 01\n", "a = 1__0\n", "a = .5\n", "a = 1.\n", "a = \"\\x\"\n", "a = 1 b = 2\n", "= 1\n",
        "a.b = 1\n[a]\n", "a = {b = 1}\n[a.c]\n", "a = 'x\u{1}'\n",
        String(repeating: "a = [", count: 1) + String(repeating: "[", count: 100) + "\n",
    ]

    @Test func malformedDocumentsAreLocatedErrors() throws {
        let folder = try TestSupport.scratchDirectory()
        for (i, text) in Self.invalid.enumerated() {
            #expect(throws: TOML.ParseError.self, "\(text.debugDescription)") { _ = try TOML.parse(text) }
            try text.write(toFile: "\(folder)/\(i).toml", atomically: true, encoding: .utf8)
        }
        // The reference agrees that each is malformed.
        let result = try TestSupport.python(
            """
            import sys, tomllib
            for i in range(int(sys.argv[2])):
                try:
                    with open("%s/%d.toml" % (sys.argv[1], i), "rb") as f: tomllib.load(f)
                    print("ACCEPTED %d" % i)
                except tomllib.TOMLDecodeError:
                    print("rejected")
            """, [folder, String(Self.invalid.count)])
        #expect(result.split(separator: "\n").allSatisfy { $0 == "rejected" }, "\(result)")
    }

    /// Valid TOML that segscope refuses by design, with a reason.
    @Test func datesAreRefusedByName() {
        #expect(
            performing: { _ = try TOML.parse("a = 1979-05-27T07:32:00Z\n") },
            throws: { error in
                (error as? TOML.ParseError)?.description
                    == "line 1, column 5: dates and times are not used in segscope files"
            })
    }

    @Test func themeAndManifestErrorsAreOneLineThroughTheCLI() throws {
        let folder = try TestSupport.scratchDirectory()
        for (i, text) in ["[\n", "[#", "[=", "[\\", "[[[", "[é"].enumerated() {
            let path = "\(folder)/t\(i).toml"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let theme = try TestSupport.segscope(["labels", path])
            #expect(
                theme.status == 1 && theme.stderr.hasPrefix("segscope: \(path): ")
                    && theme.stderr.split(separator: "\n").count == 1, "\(theme.stderr)")
            try FileManager.default.createDirectory(atPath: "\(folder)/d\(i)", withIntermediateDirectories: true)
            try text.write(toFile: "\(folder)/d\(i)/segscope.toml", atomically: true, encoding: .utf8)
            let manifest = try TestSupport.segscope(["eval", "\(folder)/d\(i)"])
            #expect(manifest.status == 1 && manifest.stderr.contains("invalid TOML at line"), "\(manifest.stderr)")
        }
    }
}
