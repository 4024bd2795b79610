import Foundation
import Socks5
import UDPChecks

/// The internet's own UDP services, offline on loopback: dnsmasq
/// with the test zone socksdeck.test (peers/dns/dnsmasq.conf), chronyd as a server that never
/// touches the clock, and coturn's turnserver as a STUN server with RFC 5780 on 127.0.0.1 and
/// 127.0.0.2. Started once per test process on free ports, stopped by pid (process group).
final class UDPServices: Sendable {
    let dnsPort: UInt16
    let ntpPort: UInt16
    /// STUN on stunPort and stunPort + 1, on 127.0.0.1, 127.0.0.2 and ::1.
    let stunPort: UInt16
    private let processes: [PeerProcess]

    private static let instance = Result { () throws(PeerError) -> UDPServices in try UDPServices() }
    static func shared() throws -> UDPServices { try instance.get() }

    private init() throws(PeerError) {
        do {
            let dir = try makeTemporaryDirectory("udpservices")
            chmod(dir, 0o755)
            dnsPort = try Self.freeUDPPort(hosts: ["127.0.0.1", "::1"])
            let dns = try PeerProcess(
                name: "dnsmasq",
                executable: "dnsmasq",
                arguments: [
                    "--keep-in-foreground", "--conf-file=\(Repository.path("peers/dns/dnsmasq.conf"))",
                    "--port=\(dnsPort)",
                    "--listen-address=127.0.0.1", "--listen-address=::1", "--bind-interfaces", "--log-facility=-",
                    "--pid-file=\(dir)/dnsmasq.pid",
                ],
                logPath: dir + "/dns.log"
            )
            ntpPort = try Self.freeUDPPort(hosts: ["127.0.0.1", "::1"])
            try """
            port \(ntpPort)
            bindaddress 127.0.0.1
            bindaddress ::1
            allow 127.0.0.0/8
            allow ::1
            local stratum 10
            cmdport 0
            bindcmdaddress /
            pidfile \(dir)/chronyd.pid

            """.write(toFile: dir + "/chrony.conf", atomically: true, encoding: .utf8)
            // -x: never adjust the clock; -d: foreground, log to stderr. As non-root: -U -u self.
            let user = getuid() == 0 ? [] : ["-U", "-u", String(cString: getpwuid(getuid())!.pointee.pw_name)]
            let ntp = try PeerProcess(
                name: "chronyd",
                executable: "chronyd",
                arguments: ["-x", "-d"] + user + ["-f", dir + "/chrony.conf"],
                logPath: dir + "/ntp.log"
            )
            stunPort = try Self.freeUDPPort(hosts: ["127.0.0.1", "127.0.0.2", "::1"], pair: true)
            // -n: not /etc/turnserver.conf (Debian's turns RFC 5780 off); the order of -L makes
            // 127.0.0.2 the change-IP address; --db :memory: writes no database file.
            let stun = try PeerProcess(
                name: "turnserver",
                executable: "turnserver",
                arguments: [
                    "-n", "--stun-only", "--no-auth", "--no-cli", "--no-tcp", "--no-tls", "--no-dtls", "-L",
                    "127.0.0.1",
                    "-L", "127.0.0.2", "-L", "::1", "-p", "\(stunPort)", "--alt-listening-port", "\(stunPort + 1)",
                    "--db", ":memory:", "--log-file", "stdout", "--simple-log", "--pidfile", dir + "/turnserver.pid",
                ],
                logPath: dir + "/stun.log"
            )
            processes = [dns, ntp, stun]
            try Self.waitUntilAnswering(dns, "127.0.0.1", dnsPort, Self.dnsProbe)
            try Self.waitUntilAnswering(dns, "::1", dnsPort, Self.dnsProbe)
            try Self.waitUntilAnswering(
                ntp,
                "127.0.0.1",
                ntpPort,
                NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded()
            )
            try Self.waitUntilAnswering(
                ntp,
                "::1",
                ntpPort,
                NTPRequest(transmit: NTPTimestamp(unixTime: 1e9)).encoded()
            )
            let binding = STUNBindingRequest(transactionID: Array(repeating: 7, count: 12)).encoded()
            for host in ["127.0.0.1", "127.0.0.2", "::1"] {
                for port in [stunPort, stunPort + 1] { try Self.waitUntilAnswering(stun, host, port, binding) }
            }
        } catch let error as PeerError {
            throw error
        } catch {
            throw .failed("\(error)")
        }
    }

    static let dnsProbe = (try? DNSQuery(id: 0x5D5D, name: "socksdeck.test", type: .a).encoded()) ?? []

    func dns(_ family: AddressFamily) -> IPEndpoint { .loopback(family, dnsPort) }
    func ntp(_ family: AddressFamily) -> IPEndpoint { .loopback(family, ntpPort) }
    func stun(_ family: AddressFamily) -> IPEndpoint { .loopback(family, stunPort) }

    /// A UDP port free on every host (and, with `pair`, the next one too).
    static func freeUDPPort(hosts: [String], pair: Bool = false) throws -> UInt16 {
        for _ in 0..<50 {
            let port = UInt16.random(in: 20_000...40_000)
            let ports = pair ? [port, port + 1] : [port]
            let free = ports.allSatisfy { p in
                hosts.allSatisfy { host in
                    let endpoint = IPEndpoint("\(host.contains(":") ? "[\(host)]" : host):\(p)")!
                    let fd = socket(
                        endpoint.family.rawFamily,
                        Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                        0
                    )
                    defer { close(fd) }
                    return endpoint.withSockaddr { bind(fd, $0, $1) } == 0
                }
            }
            if free { return port }
        }
        throw PeerError.failed("no free UDP port on \(hosts)")
    }

    /// Sends `request` until a reply comes (bounded: 10 s), or the process exits.
    static func waitUntilAnswering(_ process: PeerProcess, _ host: String, _ port: UInt16, _ request: [UInt8]) throws {
        let endpoint = IPEndpoint("\(host.contains(":") ? "[\(host)]" : host):\(port)")!
        let fd = TestSockets.datagram(endpoint.family, receiveTimeoutMilliseconds: 200)
        defer { close(fd) }
        let deadline = Date().addingTimeInterval(10)
        var buffer = [UInt8](repeating: 0, count: 2048)
        while Date() < deadline {
            guard process.isRunning else {
                throw PeerError.failed("\(process.name) exited: \(process.log.suffix(1500))")
            }
            _ = endpoint.withSockaddr { sendto(fd, request, request.count, 0, $0, $1) }
            if recv(fd, &buffer, buffer.count, 0) > 0 { return }
        }
        throw PeerError.failed("\(process.name) did not answer on \(endpoint) within 10 s: \(process.log.suffix(1500))")
    }
}
