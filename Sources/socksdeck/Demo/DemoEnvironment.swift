import NIOPosix
import Socks5
import SocksDeckEngine
import SocksDeckRelay

#if canImport(Glibc)
import Glibc
#endif

/// The built-in demo: what a first run talks to when there is nothing else. In this process, on
/// free loopback ports: a relay, a relay with username/password, a relay without UDP, a UDP echo
/// target, a configured server where nothing listens, so that every kind of outcome shows, and a
/// DNS and a STUN server (DemoResponders) for the checks.
struct DemoEnvironment {
    static let username = "demo"
    /// Demo credentials, printed as such: the relay listens on loopback only.
    static let password = "demo-password"
    static let serverNames = ["demo", "demo-auth", "demo-no-udp", "demo-nowhere"]

    let group: MultiThreadedEventLoopGroup
    let relays: [RelayServer]
    let echo: UDPEchoService
    let responders: DemoResponders
    let configuration: DeckConfiguration
    let nowherePort: UInt16

    static func start() async throws -> DemoEnvironment {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loopback = IPEndpoint(.v4(.loopback), port: 0)
        let echo = try await UDPEchoService.start(on: loopback, group: group)
        let plain = try await RelayServer.start(RelayConfiguration(listen: [loopback]), group: group)
        let credentials = Credentials(username: username, password: password)!
        let auth = try await RelayServer.start(
            RelayConfiguration(listen: [loopback], credentials: credentials),
            group: group
        )
        let noUDP = try await RelayServer.start(RelayConfiguration(listen: [loopback], udpEnabled: false), group: group)
        let nowhere = unusedPort()
        let responders = try await DemoResponders.start(group: group)
        func server(_ name: String, _ port: UInt16, _ credentials: Credentials? = nil) -> ServerDefinition {
            var s = ServerDefinition(
                name: name,
                host: "127.0.0.1",
                port: port,
                credentials: credentials,
                passwordSource: credentials == nil ? nil : .inline,
                echo: echo.listening,
                connectTimeout: .seconds(2),
                handshakeTimeout: .seconds(3)
            )
            // What `check demo` and the TUI's c and N go to: the demo's own resolver and STUN server.
            s.checkTargets = CheckTargets(
                dns: .ip(responders.dns),
                stun: .ip(responders.stun),
                dnsName: "socksdeck.demo"
            )
            return s
        }
        var configuration = DeckConfiguration(servers: [
            server("demo", plain.listening[0].port),
            server("demo-auth", auth.listening[0].port, credentials),
            server("demo-no-udp", noUDP.listening[0].port),
            server("demo-nowhere", nowhere),
        ])
        // The demo's forward: its DNS responder through the demo relay, for a first `dig`.
        configuration.forwards = [
            ForwardDefinition(
                server: "demo",
                spec: ForwardSpec(local: IPEndpoint(.v4(.loopback), port: forwardPort()), target: .ip(responders.dns))
            )
        ]
        return DemoEnvironment(
            group: group,
            relays: [plain, auth, noUDP],
            echo: echo,
            responders: responders,
            configuration: configuration,
            nowherePort: nowhere
        )
    }

    /// What the user is told: that this is the demo, what runs, and how to add real servers.
    /// What every command but `servers --demo` says of the demo: one line on stderr.
    static var oneLineNotice: String {
        "socksdeck: on the built-in demo (its own relays on loopback; `socksdeck servers --demo` says what runs); "
            + "for real servers, add [[server]] tables to \(DeckConfiguration.defaultPath()) or pass --config FILE"
    }

    var notice: String {
        let s = configuration.servers
        return """
            This is the built-in demo: SocksDeck's own relays run in this process on loopback.
              demo          \(s[0].address)  UDP relay, no authentication
              demo-auth     \(s[1].address)  UDP relay, username "\(Self.username)" / \
            password "\(Self.password)" (demo credentials)
              demo-no-udp   \(s[2].address)  no UDP relay: UDP ASSOCIATE gets REP 7
              demo-nowhere  \(s[3].address)  nothing listens: connection refused
              echo target   \(echo.listening)  (TARGET "echo" sends there)
              DNS, STUN     \(responders.dns) (zone socksdeck.demo), \(responders.stun) with RFC 5780 on 127.0.0.2
                            (`socksdeck check demo`, or c and N in the UI)
              forward       \(configuration.forwards[0].spec.local) to the DNS server through demo:
                            dig @127.0.0.1 -p \(configuration.forwards[0].spec.local.port) socksdeck.demo
            To use real servers, add [[server]] tables to \(DeckConfiguration.defaultPath()) or pass --config FILE.
            """
    }

    func stop() async {
        for r in relays { await r.stop() }
        await echo.stop()
        await responders.stop()
        try? await group.shutdownGracefully()
    }

    /// The demo forward's local port: 15353 (what README's `dig` uses) when it is free, else any.
    static let preferredForwardPort: UInt16 = 15353

    private static func forwardPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        let preferred = IPEndpoint(.v4(.loopback), port: preferredForwardPort)
        if preferred.withSockaddr({ bind(fd, $0, $1) }) == 0 { return preferredForwardPort }
        _ = IPEndpoint(.v4(.loopback), port: 0).withSockaddr { bind(fd, $0, $1) }
        return IPEndpoint.local(of: fd)?.port ?? preferredForwardPort
    }

    /// A loopback port with nothing listening: bound, then released.
    private static func unusedPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        _ = IPEndpoint(.v4(.loopback), port: 0).withSockaddr { bind(fd, $0, $1) }
        return IPEndpoint.local(of: fd)?.port ?? 9
    }
}
