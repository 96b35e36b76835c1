#if canImport(Glibc)
import Glibc
#endif
import TCPLabObserve
import TCPLabSystem

extension LadderRequest {
    /// Draws the ladder and writes it to the file, or to stdout (text in colour on a terminal).
    /// The text ladder is the watch's own, with its kernel events.
    func emit(_ watch: ObservationSession) throws {
        let colour = path == nil && isatty(STDOUT_FILENO) == 1
        let drawn = format == .text ? watch.ladder(colour: colour) : format.render(events: watch.events, transitions: watch.transitions)
        guard let path else {
            print(drawn, terminator: "")
            return
        }
        try PictureFile.write(drawn, to: path)
        printError("faultproxy: wrote the \(format.rawValue) ladder of \(watch.events.count) segments to \(path)")
    }
}
