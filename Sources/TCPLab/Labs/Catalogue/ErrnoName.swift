import TCPLabSystem

extension Error {
    /// "EADDRINUSE" for a failed system call, else the error's description: what a lab reports.
    var errnoName: String { (self as? SystemCallError)?.errnoName ?? "\(self)" }
}
