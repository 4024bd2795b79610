import Foundation
import Socks5
import SocksDeckEngine

#if canImport(Glibc)
import Glibc
#endif

/// Writing to stdout and stderr, and the JSON forms scripts read.
///
/// Written with write(2) rather than FileHandle, whose `write(_:)` traps on EPIPE: a reader that
/// closes the pipe early (`socksdeck watch … | head -1`) must end the command quietly, not with a
/// backtrace. SIGPIPE is ignored (see `SocksDeck.main`), so a closed stdout shows up here as EPIPE,
/// and the command then exits 0, as the reader has seen all it wanted.
enum Output {
    /// Unbuffered, so that a script reading a pipe sees each line when it is written.
    static func line(_ text: String) {
        guard write(text + "\n", to: STDOUT_FILENO) else { endBecauseStdoutFailed(errno) }
    }

    static func error(_ text: String) {
        _ = write("socksdeck: " + text + "\n", to: STDERR_FILENO)
    }

    static func warning(_ text: String) {
        _ = write("socksdeck: warning: " + text + "\n", to: STDERR_FILENO)
    }

    /// A notice for the person at the terminal (not an error), on stderr so that stdout stays data.
    static func notice(_ text: String, newline: Bool = true) {
        _ = write(newline ? text + "\n" : text, to: STDERR_FILENO)
    }

    /// Writes all of `text`, retrying short writes and EINTR; false when the reader is gone (EPIPE)
    /// or the descriptor fails otherwise.
    private static func write(_ text: String, to descriptor: Int32) -> Bool {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written >= 0 {
                offset += written
            } else if errno != EINTR {
                return false
            }
        }
        return true
    }

    /// Stdout cannot take more. When its reader has gone (EPIPE) there is nobody left to tell
    /// anything: exit at once, successfully, as the reader has what it wanted. Any other failure
    /// (a full disk) loses output, so it is said on stderr and ends with EX_IOERR (74).
    /// `_exit` rather than `exit`: the engine's threads are still running, and nothing buffered is
    /// left to flush (every line goes straight to write(2)).
    private static func endBecauseStdoutFailed(_ code: Int32) -> Never {
        guard code != EPIPE else { _exit(0) }
        error("cannot write to standard output: \(String(cString: strerror(code))); output was lost")
        _exit(74)
    }

    /// One JSON object on one line, keys sorted, so that output is stable.
    static func json(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = Timestamp.jsonStrategy
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        line(String(decoding: data, as: UTF8.self))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        hexDump(bytes)
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
    /// Whose doing a close was: "user", "server" or "engine".
    var closedBy: AssociationCloser?
    var error: FailureJSON?
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
        closedBy = s.closedBy
        if case .failed(let f) = s.state { error = FailureJSON(f) }
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
        history = s.history.map { ["state": $0.state.name, "since": Timestamp.iso8601($0.since, fractional: true)] }
        ageSeconds = (s.age * 1000).rounded() / 1000
    }
}
