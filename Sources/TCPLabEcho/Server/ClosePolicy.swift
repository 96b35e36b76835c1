import ArgumentParser
import TCPLabCommandSupport
import TCPLabSystem

/// When the server closes an accepted connection.
enum ClosePolicy: ExpressibleByArgument, Equatable {
    /// Close when the client closes (the client is the active closer).
    case peer
    /// Never close: the client's FIN leaves the server socket in CLOSE_WAIT for good.
    case never
    /// Close right after echoing the first message (the server becomes the active closer).
    case first
    /// Close this long after accept.
    case after(Duration)

    init?(argument: String) {
        switch argument {
        case "peer": self = .peer
        case "never": self = .never
        case "first": self = .first
        default:
            guard argument.hasPrefix("after:"),
                  let duration = try? Duration(parsing: String(argument.dropFirst("after:".count)))
            else { return nil }
            self = .after(duration)
        }
    }

    static var allValueStrings: [String] { ["peer", "never", "first", "after:DURATION"] }
}

/// Whether the server accepts at all.
enum AcceptMode: String, ExpressibleByArgument, CaseIterable {
    /// Accept every connection as soon as it is ready (after --accept-delay).
    case always
    /// Listen, but never call accept(): connections pile up in the accept queue.
    case never
}
