import Foundation
import Socks5
import UDPChecks

/// A real QUIC server on loopback for `check --quic`: ngtcp2's example server `gtlsserver`
/// (Debian's ngtcp2-server) with a self-signed certificate made here by openssl, on 127.0.0.1 and
/// ::1. It answers an Initial of a version it does not know with Version Negotiation (RFC 9000
/// §6) and drops one shorter than 1,200 bytes (§14.1). Started once per test process, stopped
/// by pid.
final class QUICServer: Sendable {
    let port: UInt16
    private let processes: [PeerProcess]

    private static let instance = Result { () throws(PeerError) -> QUICServer in try QUICServer() }
    static func shared() throws -> QUICServer { try instance.get() }

    func endpoint(_ family: AddressFamily) -> IPEndpoint { .loopback(family, port) }

    private init() throws(PeerError) {
        do {
            let dir = try makeTemporaryDirectory("quic")
            let made = try runToCompletion(
                PeerProcess.which("openssl") ?? "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "2", "-subj", "/CN=localhost",
                ],
                environment: ProcessInfo.processInfo.environment,
                seconds: 30
            )
            guard made.status == 0 else { throw PeerError.failed("openssl req: \(made.output)") }
            let port = try UDPServices.freeUDPPort(hosts: ["127.0.0.1", "::1"])
            self.port = port
            processes = try ["127.0.0.1", "::1"].map { host in
                try PeerProcess(
                    name: "gtlsserver",
                    executable: "gtlsserver",
                    arguments: ["-q", "-d", dir, host, "\(port)", dir + "/key.pem", dir + "/cert.pem"],
                    logPath: dir + "/gtlsserver-\(host == "::1" ? "6" : "4").log"
                )
            }
            let initial = QUICProbe().encoded()
            try UDPServices.waitUntilAnswering(processes[0], "127.0.0.1", port, initial)
            try UDPServices.waitUntilAnswering(processes[1], "::1", port, initial)
        } catch let error as PeerError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
    }
}
