extension ViewState {
    /// The methods compared (flips, Δ, confidence change): `compared` against `reference`.
    public struct MethodChoice: Equatable, Sendable {
        public var reference: String?
        public var compared: String?
        /// Set once the user picks either method with m or M.
        public var chosen = false
    }
}

/// Picking the compared and the reference method.
enum MethodUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "m/M", "compared / reference method (flips, Δ, Δconf)",
            [
                (Key.character("m"), .redraw("nextComparedMethod") { c in choose(c, reference: false) }),
                (Key.character("M"), .redraw("nextReferenceMethod") { c in choose(c, reference: true) }),
            ])
    ]

    static func choose(_ c: ViewerController, reference: Bool) {
        let methods = c.dataset.methods
        guard methods.count >= 2 else {
            c.state.message =
                methods.count == 1
                ? "comparing needs two methods; shown: \(methods[0])" : "comparing needs two methods"
            return
        }
        var choice = c.state.methods
        let current = reference ? choice.reference : choice.compared
        var i = methods.firstIndex(of: current ?? "") ?? -1
        let other = reference ? choice.compared : choice.reference
        repeat { i = (i + 1) % methods.count } while methods[i] == other
        if reference { choice.reference = methods[i] } else { choice.compared = methods[i] }
        choice.chosen = true
        c.state.methods = choice
        c.state.message = "compared: \(choice.compared ?? "-") vs reference \(choice.reference ?? "-")"
    }
}
