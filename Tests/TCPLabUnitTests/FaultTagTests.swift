import TCPLabFault
import TCPLabNetlink
import XCTest

/// The NFLOG prefix and the rule comment are rendered and parsed by one type each: every value
/// renders to the text the kernel carries and parses back to itself.
final class FaultTagTests: XCTestCase {
    func testEveryTagRoundTripsThroughItsLogPrefix() throws {
        var tags: [FaultTag] = [.pass]
        for kind in SegmentKind.faultable {
            tags.append(FaultTag(.drop, kind))
            for action in [FaultTag.Action.delay, .duplicate, .release] {
                tags.append(FaultTag(action, kind, delay: .milliseconds(300)))
                tags.append(FaultTag(action, kind, delay: FaultDuration(nanoseconds: 1_500_000), jitter: .milliseconds(1)))
                tags.append(FaultTag(action, kind, delay: .zero))
            }
        }
        for tag in tags {
            XCTAssertEqual(FaultTag(logPrefix: tag.description), tag, tag.description)
            XCTAssertLessThanOrEqual(tag.description.utf8.count, 63, "NFULA_PREFIX holds 64 bytes with its NUL: \(tag)")
        }
        XCTAssertEqual(FaultTag(.delay, .data, delay: .milliseconds(300), jitter: .milliseconds(5)).description, "tcplab delay data 300ms~5ms")
        XCTAssertEqual(FaultTag(.drop, .handshakeAck).description, "tcplab drop handshake-ack")
        XCTAssertNil(FaultTag(logPrefix: "tcplab frobnicate syn"))
        XCTAssertNil(FaultTag(logPrefix: "iptables: "))
    }

    func testEveryRuleCommentRoundTrips() {
        var comments = RuleComment.TimelineRule.allCases.map(RuleComment.timeline)
        for kind in SegmentKind.faultable {
            for action in [FaultTag.Action.drop, .delay, .duplicate] { comments.append(.fault(action, kind)) }
        }
        for comment in comments { XCTAssertEqual(RuleComment(comment.description), comment, comment.description) }
        XCTAssertEqual(RuleComment.fault(.drop, .synack).description, "drop synack")
        XCTAssertEqual(RuleComment.timeline(.copy).description, "timeline copy")
        XCTAssertNil(RuleComment("release synack"), "a release is a timeline rule, not a fault")
        XCTAssertNil(RuleComment(nil))
        XCTAssertNil(RuleComment("hand-written rule"))
    }

    /// What the linearizer writes is what the readers parse: every logging rule's prefix is a
    /// tag, every counted rule's comment a RuleComment, and a fault rule's comment names the
    /// action and kind of its prefix.
    func testTheLinearizedTableUsesOnlyTagsAndComments() throws {
        let plan = FaultPlan(port: 7000, drops: [DropSpec(.synack, .first(2))], delays: [DelaySpec(.data, delay: .milliseconds(5))],
                             duplicates: [DuplicateSpec(.syn, copyDelay: .milliseconds(500))], logGroup: 3, tableName: "t")
        let table = try plan.linearize()
        for rule in table.rules {
            for case .log(_, let prefix, _) in rule.expressions {
                let tag = try XCTUnwrap(FaultTag(logPrefix: prefix), prefix)
                let comment = try XCTUnwrap(RuleComment(rule.comment), "\(prefix) without a comment")
                if case .fault(let action, let kind) = comment {
                    XCTAssertEqual(action, tag.action)
                    XCTAssertEqual(kind, tag.kind)
                }
            }
        }
    }
}
