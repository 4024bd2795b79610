import Foundation
import Socks5
import SocksDeckEngine

/// Writing to stdout and stderr, and the JSON forms scripts read.
enum Output {
    /// Unbuffered, so that a script reading a pipe sees each line when it is written.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("socksdeck: " + text + "\n").utf8))
    }

    static func warning(_ text: String) {
        FileHandle.standardError.write(Data(("socksdeck: warning: " + text + "\n").utf8))
    }

    /// One JSON object on one line, keys sorted, so that output is stable.
    static func json(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        line(String(decoding: data, as: UTF8.self))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }

    /// Printable ASCII as is, everything else as '.'.
    static func text(_ bytes: [UInt8]) -> String {
        String(bytes.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
    }
}

/// The JSON shape of an association, from its snapshot.
struct AssociationJSON: Encodable {
    var id: Int
    var server: String
    var serverAddress: String
    var state: String
    var reason: String?
    var error: DecodedFailure?
    var rendezvousReceived: String?
    var rendezvousUsed: String?
    var rendezvousReplaced: Bool?
    /// Why the rendezvous used is not BND as received (empty when it is).
    var rendezvousReason: String?
    /// The family asked for, and the family of BND as the server sent it.
    var requestedFamily: String
    var receivedFamily: String?
    var declared: String?
    var controlLocal: String?
    var controlRemote: String?
    var dataLocal: String?
    var counters: DatagramCounters
    var history: [[String: String]]
    var ageSeconds: Double

    init(_ s: AssociationSnapshot) {
        id = s.id.value
        server = s.serverName
        serverAddress = s.serverAddress
        state = s.state.name
        if case .closed(let r) = s.state { reason = r }
        if case .failed(let f) = s.state { error = f }
        rendezvousReceived = s.rendezvous?.asReceived.description
        rendezvousReason = s.rendezvous.map(\.substitutionReason)
        requestedFamily = s.requestedFamily.description
        receivedFamily = s.rendezvous?.receivedFamily?.description
        declared = s.declared?.description
        rendezvousUsed = s.rendezvous?.asUsed.description
        rendezvousReplaced = s.rendezvous?.replacedUnspecified
        controlLocal = s.controlLocal
        controlRemote = s.controlRemote
        dataLocal = s.dataSocketLocal
        counters = s.counters
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        history = s.history.map { ["state": $0.state, "since": formatter.string(from: $0.since)] }
        ageSeconds = (s.age * 1000).rounded() / 1000
    }
}
