import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine

/// Real implementations that refuse UDP ASSOCIATE, each in its own way (issue 29): the library,
/// the probe and the CLI must name what the server did, from what it sent.
@Suite(.tags(.peers), .needsPeers, .serialized) struct RefusingServerTests {
    /// OpenSSH's `ssh -D` closes on UDP ASSOCIATE without a reply: S5_ECLOSED, before any REP byte.
    @Test func openSSHDynamicForwardingClosesWithoutAReply() async throws {
        let forward = try OpenSSHDynamicForward()
        defer { forward.stop() }
        do {
            _ = try UDPAssociation.open(server: forward.endpoint)
            Issue.record("ssh -D granted UDP ASSOCIATE")
        } catch {
            #expect(error.socks5Errno == SOCKS5ErrorCode.closedDuringHandshake.rawValue, "\(error)")
        }
        let r = try CLITests.run(["associate", "\(forward.endpoint)"])
        #expect(r.status == 1)
        #expect(r.output.contains("S5_ECLOSED"), "\(r.output)")
        #expect(r.output.contains("EOF while waiting for the reply to UDP ASSOCIATE"), "\(r.output)")
        var probe = CapabilityProbe(
            server: ServerDefinition(name: "ssh", host: "127.0.0.1", port: forward.endpoint.port),
            endpoint: forward.endpoint,
            echo: try TestPeers.shared().echo.endpoint(.ipv4)
        )
        probe.stepTimeout = .milliseconds(1000)
        let f = Dictionary(await probe.findings().map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(f[.methodNone]?.verdict == .yes)
        #expect(f[.udpAssociate]?.verdict == .no)
        #expect(f[.udpAssociate]?.value.hasPrefix("S5_ECLOSED") == true, "\(String(describing: f[.udpAssociate]))")
        #expect(f[.connect]?.verdict == .yes, "ssh -D relays CONNECT: \(String(describing: f[.connect]))")
    }

    /// tor answers UDP ASSOCIATE with REP 7 before it has built any circuit: run in a network
    /// namespace of the test's own (`unshare -n`, loopback only), so that it reaches nothing.
    @Test func torAnswersREP7InANamespaceOfItsOwn() throws {
        guard getuid() == 0, let tor = PeerProcess.which("tor"), let unshare = PeerProcess.which("unshare") else {
            throw PeerError.missing("tor in a network namespace needs root, tor (apt-get install -y tor) and unshare")
        }
        let dir = try makeTemporaryDirectory("tor")
        try """
        SocksPort 127.0.0.1:29050
        DataDirectory \(dir)/data
        Log notice file \(dir)/tor.log
        RunAsDaemon 0
        AvoidDiskWrites 1

        """.write(toFile: dir + "/torrc", atomically: true, encoding: .utf8)
        // Inside the namespace: loopback up, tor started, its SOCKS port awaited (bounded), then
        // SocksDeck; tor is stopped by its pid, and the namespace ends with the shell.
        let script = """
            ip link set lo up || exit 90
            "$1" -f "$2/torrc" >/dev/null 2>&1 & tor=$!
            i=0; until "$3" associate 127.0.0.1:29050 --json >"$2/attempt" 2>&1 || ! grep -q ECONNREFUSED "$2/attempt"
            do i=$((i+1)); [ $i -lt 100 ] || { kill $tor; exit 91; }; sleep 0.1; done
            "$3" associate 127.0.0.1:29050; rc=$?
            kill $tor; wait $tor; exit $rc
            """
        let r = try runToCompletion(unshare, ["-n", "/bin/sh", "-c", script, "sh", tor, dir, try CLITests.binary()])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("S5_EOPNOTSUPP"), "\(r.output)")
        #expect(r.output.contains("(reply to UDP ASSOCIATE: 05 07 00 01 00 00 00 00 00 00)"), "\(r.output)")
    }
}
