/// What faultproxy did with a segment, read from its NFLOG prefix (`FaultTag`).
public enum SegmentFate: String, Codable, Sendable, CaseIterable {
    /// `delayed`: taken by a delay rule and held (logged before the queue verdict); `released`:
    /// the same segment going on when the hold ended (logged by the release chain).
    case passed, dropped, delayed, duplicated, released
}
