import SystemPackage


/// What tells a session's event loop to stop: a signal (faultproxy) or another thread (the library).
public protocol StopRequest {
    var descriptor: FileDescriptor { get }
    /// Whether a stop is pending (and takes it).
    func consume() -> Bool
}

extension EventFD: StopRequest {}

extension SignalFD: StopRequest {
    public func consume() -> Bool { take() != nil }
}
