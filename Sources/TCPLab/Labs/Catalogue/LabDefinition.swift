/// One lab of the catalogue: what it shows, which seed question it answers, and the code that
/// runs it against the kernel and judges what happened.
public struct LabDefinition: Sendable {
    public enum Family: String, Sendable, CaseIterable, Codable {
        case setup = "connection set-up"
        case teardown = "connection tear-down"
        case failure = "failures after the connection is up"
    }

    /// The scenario id ("syn-lost").
    public let name: String
    public let family: Family
    /// One line: what the lab shows.
    public let summary: String
    /// The seed notes' question it answers, as the notes ask it (with a translation).
    public let question: String
    /// Sysctls the lab needs in both profiles (behaviour switches, not timers).
    public let sysctls: [(key: String, value: Int)]
    /// Sysctls on top of the fast profile's (timers this lab compresses further).
    public let fastSysctls: [(key: String, value: Int)]
    let body: @Sendable (LabContext) throws -> Void

    public init(_ name: String, family: Family, summary: String, question: String,
                sysctls: [(key: String, value: Int)] = [], fastSysctls: [(key: String, value: Int)] = [],
                body: @escaping @Sendable (LabContext) throws -> Void) {
        self.name = name
        self.family = family
        self.summary = summary
        self.question = question
        self.sysctls = sysctls
        self.fastSysctls = fastSysctls
        self.body = body
    }
}
