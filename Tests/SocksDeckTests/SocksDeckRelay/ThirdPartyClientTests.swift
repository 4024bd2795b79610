import Foundation
import NIOPosix
import Socks5
import Testing

@testable import SocksDeckRelay

/// The relay must interoperate, not just agree with our own client: PySocks, Dante's socksify
/// (running an unmodified socat) and curl, through `socksdeck serve` run as a user runs it.
@Suite(.tags(.peers), .needsPeers, .serialized) struct ThirdPartyClientTests {
    /// `socksdeck serve` on a free port, stopped by the returned closure.
    /// `unprivileged`: as the test user when the tests run as root (with setpriv, which execs,
    /// so the pid is serve's), from a copy of the binary that user may read.
    /// `descriptorLimit`: the soft and hard RLIMIT_NOFILE it runs under (prlimit, which execs too).
    static func serve(
        _ extra: [String] = [],
        unprivileged: Bool = false,
        descriptorLimit: Int? = nil
    ) throws -> (port: UInt16, stop: () -> Void, log: () -> String) {
        let port = TestSockets.freePort()
        let dir = try makeTemporaryDirectory("serve")
        let log = dir + "/serve.log"
        var command = [try CLITests.binary(), "serve", "--listen", "127.0.0.1:\(port)"] + extra
        if unprivileged, geteuid() == 0 {
            let user = try #require(getpwnam(TestPeers.username), "the test user: scripts/setup.sh --test-user").pointee
            let copy = dir + "/socksdeck"
            try FileManager.default.copyItem(atPath: command[0], toPath: copy)
            chmod(dir, 0o755)
            chmod(copy, 0o755)
            chmod(log, 0o666)
            command =
                ["/usr/bin/setpriv", "--reuid=\(user.pw_uid)", "--regid=\(user.pw_gid)", "--clear-groups", "--", copy]
                + command.dropFirst()
        }
        if let limit = descriptorLimit { command = ["/usr/bin/prlimit", "--nofile=\(limit):\(limit)", "--"] + command }
        let pid = try spawn(command[0], Array(command.dropFirst()), logPath: log)
        let deadline = Date().addingTimeInterval(10)
        while !TestSockets.canConnect(host: "127.0.0.1", port: port) && Date() < deadline { usleep(20_000) }
        return (
            port,
            {
                kill(pid, SIGINT)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }, { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        )
    }

    static func python() throws -> String {
        guard let p = PeerProcess.which("python3") else { throw PeerError.missing("python3 is not installed") }
        return p
    }

    /// serve as most people run it, without root: every connection used to be reset, because a
    /// socket option meant for TCP was set at SOL_SOCKET, where only CAP_NET_ADMIN may set it.
    @Test func serveRunByAnUnprivilegedUserRelays() throws {
        let peers = try TestPeers.shared()
        let relay = try Self.serve(unprivileged: true)
        defer { relay.stop() }
        let association = try UDPAssociation.open(server: IPEndpoint(.v4(.loopback), port: relay.port))
        TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 3000)
        try association.send(Array("unprivileged".utf8), to: .ip(peers.echo.endpoint(.ipv4)))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let d = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
        #expect(Array(buffer[0..<d.length]) == Array("unprivileged".utf8))
        association.close()
        #expect(!relay.log().contains("error"), "\(relay.log())")
    }

    /// Out of descriptors, serve says so in its log (NIO reports a failed accept only inside the
    /// listening channel) and, once connections close, takes new ones again.
    @Test func serveOutOfDescriptorsSaysSoAndRecovers() throws {
        let peers = try TestPeers.shared()
        let relay = try Self.serve(descriptorLimit: 64)
        defer { relay.stop() }
        var flood: [Int32] = []
        defer { for fd in flood { close(fd) } }
        let server = IPEndpoint(.v4(.loopback), port: relay.port)
        let deadline = Date().addingTimeInterval(10)
        while !relay.log().contains("could not take a connection: EMFILE") && flood.count < 120 && Date() < deadline {
            let fd = TestSockets.stream(.ipv4)
            flood.append(fd)
            _ = server.withSockaddr { connect(fd, $0, $1) }
            usleep(5_000)
        }
        let log = relay.log()
        #expect(log.contains("could not take a connection: EMFILE"), "\(flood.count) connections: \(log)")
        for fd in flood { close(fd) }
        flood = []
        // NIO waits a second before it accepts again; then an association works.
        var echoed = false
        let retryUntil = Date().addingTimeInterval(10)
        while !echoed && Date() < retryUntil {
            if let association = try? UDPAssociation.open(server: server) {
                TestSockets.setReceiveTimeout(association.dataSocket, milliseconds: 2000)
                try association.send([1, 2, 3], to: .ip(peers.echo.endpoint(.ipv4)))
                var buffer = [UInt8](repeating: 0, count: 64)
                echoed = (try? buffer.withUnsafeMutableBytes { try association.receive(into: $0) })?.length == 3
                association.close()
            } else {
                usleep(200_000)
            }
        }
        #expect(echoed, "\(relay.log())")
    }

    @Test func pySocksDoesUDPThroughServe() throws {
        let peers = try TestPeers.shared()
        let relay = try Self.serve()
        defer { relay.stop() }
        let script = """
            import socket, sys
            try:
                import socks
            except ImportError:
                sys.exit("PySocks is missing: pip install pysocks (scripts/setup.sh installs it)")
            s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
            s.set_proxy(socks.SOCKS5, "127.0.0.1", \(relay.port))
            s.settimeout(5)
            for i in range(3):
                s.sendto(b"pysocks %d" % i, ("127.0.0.1", \(peers.echo.port)))
                data, addr = s.recvfrom(2048)
                print(data.decode(), addr[0], addr[1])
            """
        let r = try runToCompletion(try Self.python(), ["-c", script], seconds: 30)
        #expect(r.status == 0, "\(r.output)\n\(relay.log())")
        #expect(r.output.contains("pysocks 2 127.0.0.1 \(peers.echo.port)"), "\(r.output)")
        // PySocks declares DST as the domain "0"; the relay accepted it.
        #expect(relay.log().contains("UDP association"))
    }

    /// sockslib (PyPI), another real UDP client: it declares 0.0.0.0:0, sends from a socket it
    /// never binds (so serve locks the port of its first datagram), and returns the relay's
    /// datagrams with their SOCKS header.
    @Test func sockslibDoesUDPThroughServe() throws {
        let peers = try TestPeers.shared()
        let relay = try Self.serve()
        defer { relay.stop() }
        let script = """
            import sys
            try:
                from sockslib import SocksSocket, Socks
            except ImportError:
                sys.exit("sockslib is missing: pip install sockslib (scripts/setup.sh installs it)")
            s = SocksSocket(udp=True)
            s.set_proxy(("127.0.0.1", \(relay.port)), Socks.SOCKS5)
            s.initudp()
            s.udpsocket.settimeout(5)
            # One datagram: sockslib 1.7.6's sendto replaces its stored BND with a plain tuple, so
            # a second call on the same socket fails inside sockslib (peers/README.md).
            s.sendto(b"sockslib 1", ("127.0.0.1", \(peers.echo.port)))
            data, _ = s.recvfrom(2048)
            assert data[:4] == bytes([0, 0, 0, 1]), data
            print(data[10:].decode(), int.from_bytes(data[8:10], "big"))
            """
        let r = try runToCompletion(try Self.python(), ["-c", script], seconds: 30)
        #expect(r.status == 0, "\(r.output)\n\(relay.log())")
        #expect(r.output.contains("sockslib 1 \(peers.echo.port)"), "\(r.output)")
    }

    @Test func socksifyRunsAnUnmodifiedSocatThroughServe() throws {
        let peers = try TestPeers.shared()
        guard let socksify = PeerProcess.which("socksify"), let socat = PeerProcess.which("socat") else {
            throw PeerError.missing("socksify and socat are needed: apt-get install -y dante-client socat")
        }
        let relay = try Self.serve()
        defer { relay.stop() }
        let script = "echo 'through socksify' | \(socksify) \(socat) -t 2 - UDP:127.0.0.1:\(peers.echo.port)"
        var env = ProcessInfo.processInfo.environment
        env["SOCKS_SERVER"] = "127.0.0.1:\(relay.port)"
        // Otherwise Dante's client sends loopback traffic directly, not through the server.
        env["SOCKS_AUTOADD_LANROUTES"] = "no"
        let r = try runToCompletion("/bin/sh", ["-c", script], environment: env, seconds: 30)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("through socksify"), "\(r.output)")
        #expect(relay.log().contains("UDP association"), "socksify did not go through the relay: \(relay.log())")
    }

    @Test func curlFetchesThroughServesConnect() throws {
        guard let curl = PeerProcess.which("curl") else {
            throw PeerError.missing("curl is not installed: apt-get install -y curl")
        }
        let dir = try makeTemporaryDirectory("www")
        try "served through socksdeck\n".write(toFile: dir + "/index.html", atomically: true, encoding: .utf8)
        let httpPort = TestSockets.freePort()
        let http = try PeerProcess(
            name: "http.server",
            executable: "python3",
            arguments: ["-m", "http.server", "\(httpPort)", "--bind", "127.0.0.1", "--directory", dir],
            logPath: dir + "/http.log"
        )
        defer { http.stop() }
        try http.waitUntilListening(port: httpPort)
        let relay = try Self.serve()
        defer { relay.stop() }
        let r = try runToCompletion(
            curl,
            [
                "-sS", "--max-time", "10", "--socks5", "127.0.0.1:\(relay.port)",
                "http://127.0.0.1:\(httpPort)/index.html",
            ],
            seconds: 30
        )
        #expect(r.status == 0 && r.output.contains("served through socksdeck"), "\(r.output)\n\(relay.log())")
        #expect(relay.log().contains("CONNECT 127.0.0.1:\(httpPort)"))
    }
}
