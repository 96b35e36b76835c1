/// Why a fault spec or plan was refused. Each message is one line a person can act on, naming
/// the text they typed ("--drop synak: unknown segment 'synak'; valid: ...").
public struct FaultSpecError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
