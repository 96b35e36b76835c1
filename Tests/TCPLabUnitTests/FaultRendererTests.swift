import TCPLabFault
import TCPLabNetlink
import XCTest

final class FaultRendererTests: XCTestCase {
    func testRendersAPlanAsLoadableNftSyntax() throws {
        let table = try FaultPlan(port: 7000, drops: [DropSpec(.synack, .first(1))], logGroup: 3, tableName: "faultproxy_123").linearize()
        XCTAssertEqual(NFTSyntaxRenderer.render(table), """
            table inet faultproxy_123 {
            \t# owned (NFT_TABLE_F_OWNER) when faultproxy installs it: the kernel deletes it when faultproxy exits
            \tset state_8 {
            \t\ttypeof ct id
            \t\tflags dynamic,timeout
            \t\ttimeout 86400000ms
            \t\tsize 1048576
            \t}
            \tchain prerouting {
            \t\ttype filter hook prerouting priority -150; policy accept;
            \t\tmeta l4proto tcp tcp dport 7000 meta mark set meta mark & 0x0000ffff | 0x00010000 goto fault
            \t\tmeta l4proto tcp tcp sport 7000 meta mark set meta mark & 0x0000ffff goto fault
            \t}
            \tchain output {
            \t\ttype filter hook output priority -150; policy accept;
            \t\tmeta oif 1 accept
            \t\tmeta l4proto tcp tcp dport 7000 meta mark set meta mark & 0x0000ffff | 0x08010000 goto fault
            \t\tmeta l4proto tcp tcp sport 7000 meta mark set meta mark & 0x0000ffff | 0x08000000 goto fault
            \t}
            \tchain fault {
            \t\ttcp flags & (syn|rst|ack) == syn|ack meta mark & 0x00010000 == 0x00000000 ct id != @state_8 \
            counter add @state_8 { ct id } log prefix "tcplab drop synack" group 3 goto lose comment "drop synack" \
            # each log carries meta time's low 32 bits as its mark, restored after it
            \t\tcounter log prefix "tcplab pass" group 3 comment "timeline pass" # each log carries meta time's low 32 bits as its mark, restored after it
            \t\tmeta mark set meta mark & 0x0000ffff
            \t}
            \tchain lose {
            \t\tmeta mark & 0x08000000 == 0x08000000 meta mark set meta mark & 0x0000ffff | 0xffff0000 queue num 0 bypass \
            # faultproxy sends the x_tables NFQUEUE target (nft_compat): this kernel lacks the native queue
            \t\tdrop
            \t}
            }

            """)
    }

    func testRendersSetsWithTheirKeyExpression() throws {
        let table = try FaultPlan(port: 7000, drops: [DropSpec(.keepalive)], tableName: "t").linearize()
        let text = NFTSyntaxRenderer.render(table)
        XCTAssertTrue(text.contains("\tset recent {\n\t\ttypeof ct id\n\t\tflags dynamic,timeout\n\t\ttimeout 500ms\n\t\tsize 65535\n\t}\n"), text)
        XCTAssertTrue(text.contains("meta l4proto tcp ct id != @recent meta mark set meta mark & 0xfffbffff | 0x00040000\n"), text)
        XCTAssertTrue(text.contains("\t\tupdate @recent { ct id }\n"), text)
        XCTAssertTrue(text.contains("meta nfproto ipv6 tcp doff 8 meta length 72 meta mark set meta mark & 0xfffdffff | 0x00020000 return"), text)
    }

    func testRendersNumgenQueuesAndUnknownPayloads() {
        let table = NFTTable(name: "t", owned: false, chains: [NFTChain(name: "c", hook: nil)], rules: [
            NFTRule(chain: "c", expressions: [
                .numgenRandom(modulus: 1_000_000, destination: .r0),
                .byteorder(source: .r0, destination: .r0, op: .hton, length: 4, size: 4),
                .cmp(op: .lt, source: .r0, data: [0x00, 0x04, 0x93, 0xe0]),
                .xtQueue(number: 2, bypass: true),
            ]),
            NFTRule(chain: "c", expressions: [
                .payload(base: .transport, offset: 8, length: 4, destination: .r0),
                .cmp(op: .neq, source: .r0, data: [0, 0, 1, 0]),
                .ct(key: .direction, destination: .r0),
                .cmp(op: .eq, source: .r0, data: [1]),
                .payload(base: .transport, offset: 14, length: 2, destination: .r0),
                .cmp(op: .eq, source: .r0, data: [0, 0]),
                .queue(number: 1, bypass: false),
            ], comment: "say \"hi\""),
        ])
        XCTAssertEqual(NFTSyntaxRenderer.render(table), """
            table inet t {
            \tchain c {
            \t\tnumgen random mod 1000000 < 300000 queue num 2 bypass # faultproxy sends the x_tables NFQUEUE target (nft_compat): this kernel lacks the native queue
            \t\t@th,64,32 != 256 ct direction reply tcp window 0 queue num 1 comment "say 'hi'"
            \t}
            }

            """)
    }
}
