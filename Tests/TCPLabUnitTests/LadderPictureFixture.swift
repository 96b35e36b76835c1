import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

/// A run drawn by every picture test: SYN, a dropped SYN-ACK, the SYN again at +1 s and +3 s
/// (backoff), the SYN-ACK, the handshake ACK, a data segment held 300 ms then released, its ACK;
/// and the states the two sockets went through.
enum LadderPictureFixture {
    static let client = InetEndpoint(address: InetAddress("10.0.0.1")!, port: 40000)
    static let server = InetEndpoint(address: InetAddress("10.0.0.2")!, port: 80)
    static let origin: Int64 = 1_700_000_000_000_000

    static func events() -> [TimelineEvent] {
        func segment(_ t: Int64, _ from: Endpoint, _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0, payload: Int = 0,
                     fate: SegmentFate = .passed) -> CapturedSegment {
            let (source, destination) = from == .client ? (client, server) : (server, client)
            return CapturedSegment(timestampMicroseconds: origin + t, header: TCPSegmentHeader(
                ipVersion: 4, source: source, destination: destination, sequence: seq, acknowledgment: ack,
                flags: flags, window: 100, payloadLength: payload), fate: fate)
        }
        var events = TimelineBuilder.build([
            segment(0, .client, [.syn], seq: 1000),
            segment(25, .server, [.syn, .ack], seq: 5000, ack: 1001, fate: .dropped),
            segment(1_000_000, .client, [.syn], seq: 1000),
            segment(1_000_030, .server, [.syn, .ack], seq: 5000, ack: 1001, fate: .dropped),
            segment(3_000_000, .client, [.syn], seq: 1000),
            segment(3_000_040, .server, [.syn, .ack], seq: 5000, ack: 1001),
            segment(3_000_060, .client, [.ack], seq: 1001, ack: 5001),
            segment(3_000_100, .client, [.ack, .psh], seq: 1001, ack: 5001, payload: 5, fate: .delayed),
        ])
        // The held data segment goes on 300 ms later: the same event, released (as TimelineBuilder.release makes it).
        var released = events[events.count - 1]
        released.fate = .released
        released.timeUnixMicroseconds += 300_000
        released.offsetMicroseconds += 300_000
        released.heldMicroseconds = 300_000
        events.append(released)
        events += TimelineBuilder.build([segment(3_300_200, .server, [.ack], seq: 5001, ack: 1006)]).map {
            var ack = $0
            ack.offsetMicroseconds = 3_300_200
            return ack
        }
        return events
    }

    static func transitions() -> [SocketTransition] {
        func change(_ t: Int64, _ side: Endpoint, _ state: TCPState?, timer: SocketTimer = .none) -> SocketTransition {
            let (local, remote) = side == .client ? (client, server) : (server, client)
            return SocketTransition(offsetMicroseconds: t, timeUnixMicroseconds: origin + t, side: side, local: local, remote: remote,
                                    state: state, previousState: nil, timer: timer, expiresMilliseconds: 1000)
        }
        return [
            change(500, .client, .synSent, timer: .retransmit),
            change(600, .server, .synReceived, timer: .retransmit),
            change(3_000_500, .client, .established),
            change(3_000_600, .server, .established),
        ]
    }
}
