import Foundation
import SegTestSupport
import Testing

@testable import SegView

/// The key table is the one source of the controller's bindings, the help
/// screen and the man page's KEYS section.
@Suite struct KeyBindingTests {
    @Test func noKeyIsBoundTwiceInOneContext() {
        let bindings = KeyBindings.rows.flatMap(\.bindings)
        let named = bindings.compactMap { b in b.key.map { "\(b.context) \(KeyBindings.name($0))" } }
        #expect(Set(named).count == named.count)
        let catchAlls = bindings.filter { $0.key == nil }.map { "\($0.context) \($0.trigger)" }
        #expect(Set(catchAlls).count == catchAlls.count)
    }

    @Test func helpScreenIsTheTable() {
        for width in [200, 80, 60] {
            let lines = HelpUnit.layout(width: width).lines
            #expect(lines.map(\.keys).filter { !$0.isEmpty } == KeyBindings.rows.map(\.keys))
            #expect(
                lines.map(\.text).joined(separator: " ").split(separator: " ")
                    == KeyBindings.rows.map(\.meaning).joined(separator: " ").split(separator: " "),
                "wrapping keeps every word at \(width) columns")
        }
    }

    @Test func manPageListsEveryKey() throws {
        let man = try String(contentsOfFile: TestSupport.repositoryRoot + "/man/segscope.1", encoding: .utf8)
        guard let start = man.range(of: "\n.SH KEYS\n"),
            let end = man.range(of: "\n.SH ", range: start.upperBound..<man.endIndex)
        else {
            Issue.record("man page has no KEYS section")
            return
        }
        let section = String(man[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "\\(<-", with: "←").replacingOccurrences(of: "\\(->", with: "→")
            .replacingOccurrences(of: "\\(ua", with: "↑").replacingOccurrences(of: "\\(da", with: "↓")
            .replacingOccurrences(of: "\\-", with: "-")
        var tokens = Set<String>()
        for token in section.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "/" || $0 == ";" })
        {
            tokens.insert(String(token))
            if token.count > 1, token.hasSuffix(":") || token.hasSuffix(",") { tokens.insert(String(token.dropLast())) }
        }
        for row in KeyBindings.rows {
            for binding in row.bindings {
                guard let key = binding.key else { continue }
                #expect(
                    tokens.contains(KeyBindings.name(key)),
                    "man page KEYS does not list \(KeyBindings.name(key)) (\(binding.action))")
            }
        }
    }
}
