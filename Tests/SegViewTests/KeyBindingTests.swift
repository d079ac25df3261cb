import Foundation
import SegTestSupport
import SegView
import Testing

/// The key table is the one source of the controller's bindings, the help
/// screen and the man page's KEYS section.
@Suite struct KeyBindingTests {
    @Test func noKeyIsBoundTwice() {
        let keys = KeyBindings.rows.flatMap { $0.bindings.map(\.key) }
        #expect(Set(keys.map(KeyBindings.name)).count == keys.count)
    }

    @Test func helpScreenIsTheTable() {
        for width in [200, 80, 60] {
            let lines = Compositor.helpLayout(width: width).lines
            #expect(lines.map(\.keys).filter { !$0.isEmpty } == KeyBindings.rows.map(\.keys))
            #expect(lines.map(\.text).joined(separator: " ").split(separator: " ") == KeyBindings.rows.map(\.meaning).joined(separator: " ").split(separator: " "),
                    "wrapping keeps every word at \(width) columns")
        }
    }

    @Test func manPageListsEveryKey() throws {
        let man = try String(contentsOfFile: TestSupport.repositoryRoot + "/man/segscope.1", encoding: .utf8)
        guard let start = man.range(of: "\n.SH KEYS\n"), let end = man.range(of: "\n.SH ", range: start.upperBound..<man.endIndex) else {
            Issue.record("man page has no KEYS section")
            return
        }
        let section = String(man[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "\\(<-", with: "←").replacingOccurrences(of: "\\(->", with: "→")
            .replacingOccurrences(of: "\\(ua", with: "↑").replacingOccurrences(of: "\\(da", with: "↓")
            .replacingOccurrences(of: "\\-", with: "-")
        var tokens = Set<String>()
        for token in section.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "/" || $0 == ";" }) {
            tokens.insert(String(token))
            if token.count > 1, token.hasSuffix(":") || token.hasSuffix(",") { tokens.insert(String(token.dropLast())) }
        }
        for row in KeyBindings.rows {
            for (key, action) in row.bindings {
                #expect(tokens.contains(KeyBindings.name(key)), "man page KEYS does not list \(KeyBindings.name(key)) (\(action))")
            }
        }
    }
}
