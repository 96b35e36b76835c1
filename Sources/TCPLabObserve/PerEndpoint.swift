import TCPLabSchema

/// A value for each end of a connection: what a dictionary keyed by `Endpoint` holds, without
/// hashing the key for every segment of a bulk transfer.
struct PerEndpoint<Value: Sendable>: Sendable {
    private var client: Value?
    private var server: Value?

    init() {}

    subscript(_ end: Endpoint) -> Value? {
        get { end == .client ? client : server }
        set {
            switch end {
            case .client: client = newValue
            case .server: server = newValue
            }
        }
    }
}
