#if canImport(Glibc)
import Glibc
#endif
import TCPLabObserve
import TCPLabSystem

extension LadderRequest {
    /// Draws the ladder and writes it to the file, or to stdout (text in colour on a terminal).
    func emit(_ watch: ObservationSession) throws {
        let drawn = format.render(events: watch.events, transitions: watch.transitions, kernelEvents: watch.kernelEvents,
                                  colour: path == nil && isatty(STDOUT_FILENO) == 1)
        guard let path else {
            print(drawn, terminator: "")
            return
        }
        try PictureFile.write(drawn, to: path)
        printError("faultproxy: wrote the \(format.rawValue) ladder of \(watch.events.count) segments to \(path)")
    }
}
