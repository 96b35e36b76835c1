import SystemPackage
import XCTest
@testable import TCPLabNetlink

/// The one-line errors a user reads when the kernel refuses a batch.
final class NFTablesErrorTests: XCTestCase {
    let table = NFTTable(name: "tcplab", owned: true,
                         chains: [NFTChain(name: "prerouting", hook: .prerouting, priority: -150)],
                         rules: [
                            NFTRule(chain: "prerouting", expressions: [.counter, .verdict(.drop)], comment: "drop synack"),
                            NFTRule(chain: "prerouting", expressions: [.verdict(.jump("nowhere"))]),
                            NFTRule(chain: "prerouting", expressions: [.queue(number: 1, bypass: true)]),
                         ])

    func testRefusedRuleNamesCommentChainAndErrno() {
        let error = NFTablesErrorExplainer(table: table)
            .error(for: .rule(index: 0, chain: "prerouting", comment: "drop synack"), errno: .notSupported)
        XCTAssertEqual(error.description,
                       "kernel refused rule \"drop synack\" (chain prerouting): Operation not supported (EOPNOTSUPP)")
    }

    func testMissingChainAndMissingExpressionAreTold() {
        let explainer = NFTablesErrorExplainer(table: table)
        let jump = explainer.error(for: .rule(index: 1, chain: "prerouting", comment: nil), errno: .noSuchFileOrDirectory)
        XCTAssertEqual(jump.description, "kernel refused rule #1 (chain prerouting): No such file or directory (ENOENT); "
                       + "chain nowhere is not in table tcplab")
        let queue = explainer.error(for: .rule(index: 2, chain: "prerouting", comment: nil), errno: .noSuchFileOrDirectory)
        XCTAssertTrue(queue.description.hasSuffix("this kernel lacks the native queue expression (use xtQueue, the x_tables NFQUEUE target)"),
                      queue.description)
    }

    func testPermissionAndMissingSubsystem() {
        let explainer = NFTablesErrorExplainer(table: table)
        XCTAssertEqual(explainer.error(for: .batch, errno: .notPermitted).description,
                       "nftables batch: needs CAP_NET_ADMIN: run as root (sudo) or grant it (setcap cap_net_admin+ep <executable>)")
        XCTAssertTrue(explainer.error(for: .batch, errno: .notSupported).description
            .contains("the kernel lacks nf_tables (CONFIG_NF_TABLES / CONFIG_NF_TABLES_INET)"))
        XCTAssertTrue(explainer.error(for: .chain("prerouting"), errno: .noSuchFileOrDirectory).description
            .contains("the kernel lacks nf_tables"))
    }
}
