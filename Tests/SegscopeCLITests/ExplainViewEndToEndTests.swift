import Foundation
import SegTestSupport
import Testing

/// The explain view on the shipped samples as a person opens it in tmux: X, the heat map over the three
/// frame panes, the top keys and MAR's class masses in the panel, and a cursor move that changes them.
@Suite(.serialized) struct ExplainViewEndToEndTests {
    typealias Session = ViewerEndToEndTests.Session

    /// Foreground and background of every cell of a `capture-pane -e` screen (24-bit colours only).
    static func colours(_ screen: String) -> [[(fg: [Int]?, bg: [Int]?)]] {
        screen.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var cells: [(fg: [Int]?, bg: [Int]?)] = []
            var (fg, bg): ([Int]?, [Int]?) = (nil, nil)
            var rest = Substring(line)
            while let c = rest.first {
                if c == "\u{1b}", rest.dropFirst().first == "[", let end = rest.firstIndex(of: "m") {
                    let codes = rest[rest.index(rest.startIndex, offsetBy: 2)..<end].split(
                        separator: ";", omittingEmptySubsequences: false
                    ).map { Int($0) ?? 0 }
                    var i = 0
                    while i < codes.count {
                        if codes[i] == 38 || codes[i] == 48, i + 4 < codes.count, codes[i + 1] == 2 {
                            let rgb = Array(codes[(i + 2)...(i + 4)])
                            if codes[i] == 38 { fg = rgb } else { bg = rgb }
                            i += 5
                        } else {
                            if codes[i] == 0 { (fg, bg) = (nil, nil) }
                            i += 1
                        }
                    }
                    rest = rest[rest.index(after: end)...]
                    continue
                }
                cells.append((fg, bg))
                rest = rest.dropFirst()
            }
            return cells
        }
    }

    /// The panel's top-key rows and MAR class rows as shown.
    static func panel(_ screen: String) -> (keys: [String], classes: [String]) {
        let lines = screen.split(separator: "\n").compactMap { line -> String? in
            guard let bar = line.lastIndex(of: "│") else { return nil }
            return String(line[line.index(after: bar)...]).trimmingCharacters(in: .whitespaces)
        }
        let key = #"^T[-+1]{0,2} +\(\d+,\d+\) +\d\.\d{4} "#
        let mar = #"^█ .* \d\.\d{3} +\d\.\d{2} +\d\.\d{2} +-?\d\.\d{2} +-?\d\.\d{2}$"#
        let keys = lines.filter { $0.range(of: key, options: .regularExpression) != nil }
        let classes = lines.filter { $0.range(of: mar, options: .regularExpression) != nil }
        return (keys, classes)
    }

    @Test func explainViewOnTheShippedSamples() throws {
        let session = try Session(
            arguments: ["view", TestSupport.repositoryRoot + "/samples", "--frame", "6"], width: 200, height: 60,
            environment: "env -u NO_COLOR TERM=xterm-256color COLORTERM=truecolor")
        #expect(try session.waitFor("frame 6/12"))
        #expect(try session.waitFor("▀"))
        try session.keys("X")
        #expect(try session.waitFor("MAR · p: pixel", seconds: 30), "\((try? session.screen()) ?? "")")
        #expect(try session.waitFor(#"token y\d+ x\d+"#, pattern: true))
        let screen = try session.screen()
        for title in ["T-1: composed cross L0 avg", "T: composed cross L0 avg", "T+1: composed cross L0 avg"] {
            #expect(screen.contains(title), "pane \(title)")
        }
        let (keys, classes) = Self.panel(screen)
        #expect(keys.count == 5, "\(screen)")
        #expect(classes.count >= 5, "\(screen)")
        let masses = classes.map { Double($0.split(separator: " ").reversed()[4])! }
        // The pixel's GT class and its classes before and after MAR come first (at most 3), then by mass.
        #expect((0...3).contains { masses.dropFirst($0).elementsEqual(masses.dropFirst($0).sorted(by: >)) })
        #expect(masses.reduce(0, +) <= 1.001)

        // The heat: the largest weight's cell is the heat colour itself; each frame's pane has cells that only
        // heat makes that red (the dimmed frames stay below 40% of full brightness).
        let rows = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let coloured = Self.colours(try session.screen(colors: true))
        #expect(
            coloured.joined().contains { $0.fg == [255, 60, 0] || $0.bg == [255, 60, 0] },
            "the top key's cell at full heat")
        for title in ["T-1:", "T:", "T+1:"] {
            guard let row = rows.firstIndex(where: { $0.contains(" " + title) }),
                let start = rows[row].range(of: " " + title)?.lowerBound
            else {
                Issue.record("no pane \(title)")
                continue
            }
            let column = rows[row].distance(from: rows[row].startIndex, to: start)
            var hot = 0
            for y in (row + 1)..<min(coloured.count, row + 25) {
                for x in column..<min(coloured[y].count, column + 70) {
                    let cell = coloured[y][x]
                    hot += [cell.fg, cell.bg].compactMap { $0 }.filter { $0[0] >= 150 && $0[0] > $0[1] + 60 }.count
                }
            }
            #expect(hot > 0, "heat on pane \(title)")
        }

        // Another token: the list and the masses follow the cursor.
        let token = screen.range(of: #"token y\d+ x\d+"#, options: .regularExpression).map { String(screen[$0]) }
        try session.keys("Left", "Left", "Left", "Left", "Up", "Up", "Up", "Up")
        #expect(
            try session.waitFor(#"token y\d+ x\d+"#, pattern: true)
                && (try session.waitForAbsence(token ?? "-", seconds: 10)),
            "\((try? session.screen()) ?? "")")
        #expect(try session.waitFor("MAR · p: pixel"))
        let moved = Self.panel(try session.screen())
        #expect(moved.keys.count == 5)
        #expect(moved.keys != keys || moved.classes != classes, "the explanation follows the cursor")

        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }
}
