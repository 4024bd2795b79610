import Foundation
import Testing

@testable import Socks5

/// The one datagram policy, without sockets: every verdict, and the order they are reached in
/// (a stranger's datagram is `not_from_relay` whatever else is wrong with it).
@Suite struct DatagramFilterTests {
    static let relay = IPEndpoint("127.0.0.1:4000")!
    static let target = IPEndpoint("192.0.2.7:53")!

    static func datagram(fragment: UInt8 = 0, payload: [UInt8] = [1, 2, 3]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 32)
        let n = header.withUnsafeMutableBytes {
            UDPDatagramHeader(fragment: fragment, address: .ip(target)).write(into: $0)
        }
        return Array(header[0..<n]) + payload
    }

    func atClient(
        _ bytes: [UInt8],
        source: IPEndpoint? = relay,
        largestWhole: Int? = nil
    )
        -> DatagramFilter.Verdict
    {
        bytes.withUnsafeBytes {
            DatagramFilter.atClient(
                source: source,
                relay: Self.relay,
                length: bytes.count,
                largestWhole: largestWhole,
                headerBytes: $0
            )
        }
    }

    @Test func aWholeDatagramFromTheRelayIsTakenWithItsHeader() throws {
        guard case .accepted(let accepted) = atClient(Self.datagram()) else {
            Issue.record("not accepted")
            return
        }
        #expect(accepted.header.address == .ip(Self.target))
        #expect(accepted.payloadOffset == 10)
        // The relay seen through a dual-stack socket is the same relay.
        let mapped = IPEndpoint("[::ffff:127.0.0.1]:4000")!
        #expect(atClient(Self.datagram(), source: mapped) != .dropped(.notFromRelay))
    }

    @Test func eachDropHasItsReasonInTheOrderTheyAreChecked() {
        #expect(atClient(Self.datagram(), source: IPEndpoint("127.0.0.1:4001")!) == .dropped(.notFromRelay))
        #expect(atClient(Self.datagram(), source: nil) == .dropped(.notFromRelay))
        #expect(atClient([0, 0, 1], source: IPEndpoint("127.0.0.2:4000")!) == .dropped(.notFromRelay))
        #expect(atClient(Self.datagram(), largestWhole: 12) == .dropped(.oversize))
        #expect(atClient(Self.datagram(), largestWhole: 13) != .dropped(.oversize))
        #expect(atClient([0, 0, 0, 9, 1, 2]) == .dropped(.malformedHeader))
        #expect(atClient([0, 0]) == .dropped(.malformedHeader))
        #expect(atClient(Self.datagram(fragment: 1)) == .dropped(.fragmented))
        let header = Self.datagram(fragment: 0x81).withUnsafeBytes {
            DatagramFilter.header(length: 13, headerBytes: $0)
        }
        #expect(header == .dropped(.fragmented))
    }

    /// Metrics list the client's reasons; the relay's are in the same enum with their own names.
    @Test func theReasonsKeepTheirNames() throws {
        #expect(
            DatagramDropReason.clientSide.map(\.rawValue) == [
                "not_from_relay", "fragmented", "malformed_header", "oversize", "unusable_sender",
            ]
        )
        let json = try JSONEncoder().encode([DatagramDropReason.foreignSourcePort: 2])
        #expect(String(decoding: json, as: UTF8.self) == #"{"foreign_source_port":2}"#)
    }
}
