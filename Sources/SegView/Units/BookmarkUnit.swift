/// Bookmarks with notes: set, step through, delete.
enum BookmarkUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "B  n/N  D", "bookmark with a note; next / previous; delete",
            [
                (
                    Key.character("B"),
                    .redraw("bookmark") { c in
                        c.state.prompt = ViewState.Prompt(
                            kind: .bookmark,
                            text: c.bookmarks.entries.first { $0.key == c.currentKey }?.note ?? "")
                    }
                ),
                (Key.character("n"), .redraw("nextBookmark") { c in jump(c, forward: true) }),
                (Key.character("N"), .redraw("previousBookmark") { c in jump(c, forward: false) }),
                (
                    Key.character("D"),
                    .redraw("deleteBookmark") { c in
                        do {
                            c.state.message =
                                try c.bookmarks.remove(c.currentKey)
                                ? "bookmark of \(c.currentKey) deleted" : "this frame has no bookmark"
                        } catch {
                            c.state.message = "cannot save bookmarks: \(error)"
                        }
                    }
                ),
            ])
    ]

    static func save(_ c: ViewerController, note: String) {
        do {
            try c.bookmarks.mark(c.currentKey, note: note)
            c.state.message = "bookmarked \(c.currentKey) in \(c.bookmarks.path)"
        } catch {
            c.state.message = "cannot save bookmark: \(error)"
        }
    }

    static func jump(_ c: ViewerController, forward: Bool) {
        let keys = c.bookmarks.keys
        let order = c.dataset.sequences.enumerated().flatMap { s, seq in
            seq.frames.enumerated().map {
                (
                    s, $0.offset,
                    $0.element.key
                )
            }
        }
        guard let here = order.firstIndex(where: { $0.0 == c.state.sequence && $0.1 == c.state.frame }) else { return }
        let candidates =
            forward
            ? Array(order[(here + 1)...]) + Array(order[...here])
            : Array(order[..<here].reversed()) + Array(order[here...].reversed())
        guard let target = candidates.first(where: { keys.contains($0.2) }) else {
            c.state.message = "no bookmarks"
            return
        }
        c.go(sequence: target.0, frame: target.1)
        c.state.message = "★ " + (c.bookmarks.entries.first { $0.key == target.2 }?.note ?? "")
    }
}
