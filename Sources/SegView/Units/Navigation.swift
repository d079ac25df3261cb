import Foundation
import SegDataset
import SegFormats

extension ViewState {
    public struct Playback: Equatable, Sendable {
        public var playing = false
        public var fps: Double = 5
    }
}

/// Moving through frames and sequences, playback, the jump prompt, quitting.
enum Navigation: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "←/→  h/l", "previous / next frame",
            [
                (Key.left, .redraw("previousFrame") { c in step(c, -1) }),
                (
                    Key.character("h"),
                    .redraw("previousFrame") { c in step(c, -1) }
                ),
                (Key.right, .redraw("nextFrame") { c in step(c, 1) }),
                (
                    Key.character("l"),
                    .redraw("nextFrame") { c in step(c, 1) }
                ),
            ]),
        KeyHelpRow(
            "PgUp/PgDn  [ ]", "previous / next sequence",
            [
                (Key.pageUp, .redraw("previousSequence") { c in stepSequence(c, -1) }),
                (
                    Key.character("["),
                    .redraw("previousSequence") { c in stepSequence(c, -1) }
                ),
                (Key.pageDown, .redraw("nextSequence") { c in stepSequence(c, 1) }),
                (Key.character("]"), .redraw("nextSequence") { c in stepSequence(c, 1) }),
            ]),
        KeyHelpRow(
            "Home/End  g/G", "first / last frame",
            [
                (Key.home, .redraw("firstFrame") { c in c.go(sequence: c.state.sequence, frame: 0) }),
                (Key.character("g"), .redraw("firstFrame") { c in c.go(sequence: c.state.sequence, frame: 0) }),
                (
                    Key.end,
                    .redraw("lastFrame") { c in
                        c.go(
                            sequence: c.state.sequence,
                            frame: c.sequence.frames.count - 1)
                    }
                ),
                (
                    Key.character("G"),
                    .redraw("lastFrame") { c in
                        c.go(
                            sequence: c.state.sequence,
                            frame: c.sequence.frames.count - 1)
                    }
                ),
            ]),
        KeyHelpRow(
            "space", "play / pause;  + -  change fps",
            [
                (
                    Key.character(" "),
                    .redraw("playPause") { c in
                        c.state.playback.playing.toggle()
                        c.lastAdvance = Date()
                    }
                ),
                (
                    Key.character("+"),
                    .redraw("faster") { c in c.state.playback.fps = min(60, c.state.playback.fps + 1) }
                ),
                (
                    Key.character("-"),
                    .redraw("slower") { c in c.state.playback.fps = max(1, c.state.playback.fps - 1) }
                ),
            ]),
        KeyHelpRow(
            ":", "jump to a frame: key, N (dataset) or S/N",
            [
                (Key.character(":"), .redraw("jumpPrompt") { c in c.state.prompt = ViewState.Prompt(kind: .jump) })
            ]),
        KeyHelpRow(
            "q  Ctrl-C", "quit",
            [
                (Key.character("q"), Action("quit") { _, _ in .quit }),
                (Key.interrupt, Action("quit") { _, _ in .quit }),
            ]),
    ]

    /// The first frame of the next or previous sequence; at either end of the dataset, a word instead of a
    /// silent jump to this sequence's first frame.
    static func stepSequence(_ c: ViewerController, _ delta: Int) {
        let target = c.state.sequence + delta
        guard c.dataset.sequences.indices.contains(target) else {
            c.state.message = delta > 0 ? "the last sequence of the dataset" : "the first sequence of the dataset"
            return
        }
        c.go(sequence: target, frame: 0)
    }

    /// One frame on, crossing into the next or previous sequence at its ends.
    static func step(_ c: ViewerController, _ delta: Int) {
        let next = c.state.frame + delta
        if next >= c.sequence.frames.count {
            if c.state.sequence + 1 < c.dataset.sequences.count {
                c.go(
                    sequence: c.state.sequence + 1,
                    frame: 0)
            } else {
                c.state.playback.playing = false
                c.state.message = "the last frame of the dataset"
            }
        } else if next < 0 {
            if c.state.sequence > 0 {
                c.go(
                    sequence: c.state.sequence - 1,
                    frame: c.dataset.sequences[c.state.sequence - 1].frames.count - 1)
            } else {
                c.state.message = "the first frame of the dataset"
            }
        } else {
            c.go(sequence: c.state.sequence, frame: next)
        }
    }

    /// The `:` prompt's answer: spaces around it do not count.
    static func jump(_ c: ViewerController, to text: String) {
        let name = text.trimmingCharacters(in: .whitespaces)
        if !c.open(frame: name) { c.state.message = "no frame '\(name)' (a key, N or S/N)" }
    }
}
