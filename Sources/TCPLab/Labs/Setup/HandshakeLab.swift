import Foundation
import TCPLabFault
import SystemPackage
import TCPLabSystem

extension SetupLabs {
    static let handshake = LabDefinition(
        "handshake", family: .setup,
        summary: "Normal three-way handshake: SYN, SYN-ACK, ACK, options and random ISNs",
        question: "TCP 为什么三次握手而不是两次握手 / TCP 三次握手过程 (why three handshakes, and what each carries)"
    ) { ctx in
        let lab = ctx.lab
        // The server closes first, so the client's port is free again and the same 4-tuple can connect twice.
        // The client idles a moment so the sockets' ESTABLISHED state outlasts the 5 ms sock_diag poll.
        let (fault, first) = try ctx.echoThroughFault(server: ["--close", "first"],
                                                      client: ["--bind", "\(lab.clientAddress):40000", "--close", "wait-peer", "--hold", "0.1s"])
        let second = try lab.echoClient(["--bind", "\(lab.clientAddress):40000", "--close", "wait-peer"])
        let observation = fault.stop()
        ctx.show(observation, "two connections on the same 4-tuple (\(lab.clientAddress):40000 → \(lab.serverAddress):\(lab.port))")
        ctx.expect("both connections echoed", first.echoOK && second.echoOK, expected: "echo ok twice",
                   observed: (["\(first.echoOK), \(second.echoOK)"] + [first.error, second.error].compactMap { $0 }).joined(separator: "; "))
        let opening = observation.segments(connection: 0).prefix(3).map(\.kind.rawValue)
        ctx.expect("the first three segments", expected: "syn, synack, handshake-ack", observed: opening.joined(separator: ", "))
        let syn = observation.segments(.syn, from: .client, connection: 0).first
        let synAck = observation.segments(.synack, from: .server, connection: 0).first
        ctx.expect("SYN and SYN-ACK carry no data", (syn?.payloadBytes ?? 1) == 0 && (synAck?.payloadBytes ?? 1) == 0,
                   expected: "0 and 0 bytes", observed: "\(syn?.payloadBytes ?? -1) and \(synAck?.payloadBytes ?? -1) bytes")
        for (name, segment) in [("SYN", syn), ("SYN-ACK", synAck)] {
            guard let segment else { continue }
            ctx.expect("\(name) options: MSS, window scale, SACK permitted, timestamps",
                       segment.maximumSegmentSizeBytes != nil && segment.windowScale != nil && segment.sackPermitted == true && segment.timestampValue != nil,
                       expected: "mss, wscale, sackOK, TS", observed: segment.options.joined(separator: ", "))
        }
        // Across a real link the MSS is the link's, not loopback's 65495: a named check that a
        // loopback model fails on two hosts.
        let link = try lab.link()
        ctx.expect("SYN's MSS option = link MTU \(link.mtu) − 40 (IPv4 and TCP headers)", expected: link.advertisedMSS,
                   observed: syn?.maximumSegmentSizeBytes.map(Int.init))
        let clientISNs = [0, 1].compactMap { observation.segments(.syn, from: .client, connection: $0).first?.sequenceRaw }
        let serverISNs = [0, 1].compactMap { observation.segments(.synack, from: .server, connection: $0).first?.sequenceRaw }
        ctx.expect("client ISNs of the two connections differ", clientISNs.count == 2 && clientISNs[0] != clientISNs[1],
                   expected: "two different numbers", observed: clientISNs.map(String.init).joined(separator: " vs "))
        ctx.expect("server ISNs of the two connections differ", serverISNs.count == 2 && serverISNs[0] != serverISNs[1],
                   expected: "two different numbers", observed: serverISNs.map(String.init).joined(separator: " vs "))
        ctx.fact("ISNs: client \(clientISNs.map(String.init).joined(separator: " then ")), server \(serverISNs.map(String.init).joined(separator: " then ")) (secure_tcp_seq: a keyed hash of the 4-tuple plus a 64 ns clock; a SYN answered from TIME_WAIT gets the old snd_nxt + 65537)")
        if let ack = observation.segments(.handshakeAck, from: .client, connection: 0).first {
            ctx.fact("the third segment carried \(ack.payloadBytes) bytes: Linux sends the handshake ACK on its own and the data in the next segment (data may ride on it only with TCP Fast Open)")
        }
        let clientPath = observation.statePath(.client)
        let serverPath = observation.statePath(.server)
        ctx.expect("client reaches ESTABLISHED", clientPath.contains("ESTABLISHED"), expected: "… ESTABLISHED …", observed: clientPath.joined(separator: " → "))
        ctx.expect("server reaches ESTABLISHED", serverPath.contains("ESTABLISHED"), expected: "… ESTABLISHED …", observed: serverPath.joined(separator: " → "))
        ctx.fact("SYN_SENT and SYN_RECV last one loopback round trip (microseconds), shorter than the 5 ms sock_diag poll; syn-lost and ack-lost show them; the server closes first here, so it is the one in TIME_WAIT")
        ctx.notes(say: "ISN \"随机生成seq，本例默认为0\" — the example numbers start at 0",
                  kernel: "the wire carries random 32-bit ISNs (\(clientISNs.first.map(String.init) ?? "?")); 0 is only the relative number tools print",
                  agree: true)
    }
}
