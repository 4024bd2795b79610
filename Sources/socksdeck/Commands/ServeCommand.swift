import ArgumentParser
import Dispatch
import Foundation
import NIOPosix
import ProcessPolicy
import Socks5
import SocksDeckEngine
import SocksDeckRelay
import UDPChecks

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run SocksDeck's own SOCKS5 server: CONNECT and UDP ASSOCIATE, a relay you can read and trust.",
        discussion: """
            Listens on 127.0.0.1:1080 unless told otherwise. A non-loopback address needs \
            --allow-remote: without authentication this is an open relay. BIND is answered with \
            REP 7. A connection that has not sent its request within --negotiate-timeout is closed; \
            one client address may have --max-negotiating-per-client connections negotiating and \
            --max-associations-per-client associations open at once, and is refused past either \
            (logged once a minute per client). Runs until Ctrl-C or SIGTERM, then prints its \
            statistics.
            """
    )

    @Option(name: .customLong("listen"), help: ArgumentHelp("Where to listen (repeatable).", valueName: "HOST:PORT"))
    var listen: [String] = []
    @Option(help: "Require RFC 1929 username/password with this user name.") var user: String?
    @Option(
        name: .customLong("password-env"),
        help: ArgumentHelp("The environment variable holding --user's password.", valueName: "VAR")
    )
    var passwordEnv: String?
    @Flag(name: .customLong("no-udp"), help: "Answer UDP ASSOCIATE with REP 7, as a server without UDP does.")
    var noUDP = false
    @Option(help: ArgumentHelp("Also run a UDP echo target here.", valueName: "HOST:PORT")) var echo: String?
    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp("Close associations idle this long.", valueName: "SECONDS")
    )
    var idleTimeout: Int64 = 300
    @Option(
        name: .customLong("negotiate-timeout"),
        help: ArgumentHelp(
            "Close a connection whose greeting, login and request have not all come this long after it "
                + "was accepted (decimals allowed).",
            valueName: "SECONDS"
        )
    )
    var negotiateTimeout: Double = 30
    @Option(
        name: .customLong("max-negotiating-per-client"),
        help: ArgumentHelp(
            "Connections one client address may have open before their request; more are closed at once.",
            valueName: "N"
        )
    )
    var maxNegotiatingPerClient = RelayConfiguration.ClientLimits().negotiatingConnections
    @Option(
        name: .customLong("max-associations-per-client"),
        help: ArgumentHelp(
            "Associations one client address may hold; a further UDP ASSOCIATE gets REP 2 (not allowed).",
            valueName: "N"
        )
    )
    var maxAssociationsPerClient = RelayConfiguration.ClientLimits().associations
    @Option(
        name: .customLong("source-check"),
        help: ArgumentHelp(
            "Which client datagrams an association takes: declared (the declared address and port, else the first "
                + "datagram's port; the default), address (the client's IP, any port: for clients that declare the "
                + "target as DST), none (any source).",
            valueName: "declared|address|none"
        )
    )
    var sourceCheck: SourceCheck = .declared
    @Option(
        help: ArgumentHelp(
            "The relay as a NAT, for testing NAT discovery and clients: one outbound socket per association "
                + "(endpoint-independent, the default), per destination address, or per address and port.",
            valueName: "endpoint-independent|address-dependent|address-and-port-dependent"
        )
    )
    var mapping: NATBehaviour = .endpointIndependent
    @Option(
        help: ArgumentHelp(
            "Which senders a relay socket takes back: anyone (endpoint-independent, the default), an address it "
                + "sent to, or an address and port it sent to.",
            valueName: "endpoint-independent|address-dependent|address-and-port-dependent"
        )
    )
    var filtering: NATBehaviour = .endpointIndependent
    @Option(
        help: ArgumentHelp(
            "The relay as a distant one: every message it sends on a control connection and every datagram it "
                + "relays, either way, leaves this much later, in order (a WAN on loopback, without netem).",
            valueName: "MS"
        )
    )
    var latency = 0
    @Option(
        name: .customLong("cut-datagrams"),
        help: ArgumentHelp(
            "The relay as one with a small buffer: cut every datagram it relays, either way, to this many payload "
                + "bytes, silently (as v2ray does at 2,048).",
            valueName: "BYTES"
        )
    )
    var cutDatagrams: Int?
    @Flag(name: .customLong("allow-remote"), help: "Allow listening on a non-loopback address.") var allowRemote = false
    @Flag(name: .customLong("json-log"), help: "Log one JSON object per event.") var jsonLog = false
    @OptionGroup var capture: CaptureOptions
    @OptionGroup var rotation: CaptureRotationOptions

    func validate() throws {
        for l in listen where IPEndpoint(l) == nil {
            throw ValidationError("--listen '\(l)' is not IP:port ([IPv6]:port)")
        }
        if let echo, IPEndpoint(echo) == nil { throw ValidationError("--echo '\(echo)' is not IP:port ([IPv6]:port)") }
        if (user == nil) != (passwordEnv == nil) { throw ValidationError("--user and --password-env go together") }
        if idleTimeout < 1 { throw ValidationError("--idle-timeout takes 1 second or more") }
        // At least a millisecond, at most a day: the timer takes whole nanoseconds.
        guard negotiateTimeout.isFinite, negotiateTimeout >= 0.001, negotiateTimeout <= 86_400 else {
            throw ValidationError("--negotiate-timeout takes 0.001 to 86400 seconds")
        }
        if maxNegotiatingPerClient < 1 { throw ValidationError("--max-negotiating-per-client takes 1 or more") }
        if maxAssociationsPerClient < 1 { throw ValidationError("--max-associations-per-client takes 1 or more") }
        if !(0...60_000).contains(latency) { throw ValidationError("--latency takes 0 to 60000 ms") }
        if let cutDatagrams, !(1...65_535).contains(cutDatagrams) {
            throw ValidationError("--cut-datagrams takes 1 to 65535 bytes")
        }
        let remote = (listen.compactMap(IPEndpoint.init) + [echo].compactMap { $0 }.compactMap(IPEndpoint.init)).filter
        { !$0.address.isLoopback }
        if !remote.isEmpty && !allowRemote {
            throw ValidationError(
                "\(remote.map(\.description).joined(separator: ", ")) is not a loopback address: add "
                    + "--allow-remote to listen there"
            )
        }
    }

    func run() async throws {
        // Before anything listens: a SIGTERM that comes as soon as the port answers must still
        // end the relay cleanly, with its statistics.
        let stop = SignalFlag()
        // Each client holds a descriptor or three: take what the hard limit allows.
        DescriptorLimit.raiseToHardLimit()
        var credentials: Credentials?
        if let user, let variable = passwordEnv {
            guard let password = ProcessInfo.processInfo.environment[variable], !password.isEmpty else {
                Output.error("environment variable \(variable) (--password-env) is not set")
                throw Exit.usage
            }
            guard let c = Credentials(username: user, password: password) else {
                Output.error("username and password must each be 1 to 255 bytes (RFC 1929)")
                throw Exit.usage
            }
            credentials = c
        }
        let addresses = listen.isEmpty ? [IPEndpoint(.v4(.loopback), port: 1080)] : listen.compactMap(IPEndpoint.init)
        for a in addresses where !a.address.isLoopback {
            let exposure =
                credentials == nil
                ? "anyone who reaches it can relay through it" : "protected by username/password only"
            Output.warning("listening on \(a), which is not loopback: \(exposure)")
        }
        let pcap = try rotation.open(capture)
        defer { pcap.finish() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: ProcessInfo.processInfo.activeProcessorCount)
        let json = jsonLog
        let log: @Sendable (RelayEvent) -> Void = { event in
            if json {
                struct Line: Encodable {
                    var time: Date
                    var event: String
                    var client: String?
                    var message: String
                }
                Output.json(
                    Line(time: Date(), event: event.kind.rawValue, client: event.client, message: event.message)
                )
            } else {
                Output.line(
                    "\(Timestamp.iso8601(Date())) \(event.kind.rawValue.padding(13)) "
                        + "\(event.client.map { "\($0) " } ?? "")\(event.message)"
                )
            }
        }
        let server: RelayServer
        var echoService: UDPEchoService?
        do {
            server = try await RelayServer.start(
                RelayConfiguration(
                    listen: addresses,
                    credentials: credentials,
                    udpEnabled: !noUDP,
                    idleTimeout: .seconds(idleTimeout),
                    sourceCheck: sourceCheck,
                    mapping: mapping,
                    filtering: filtering,
                    capture: pcap.file,
                    negotiationTimeout: .milliseconds(Int64((negotiateTimeout * 1000).rounded())),
                    clientLimits: RelayConfiguration.ClientLimits(
                        negotiatingConnections: maxNegotiatingPerClient,
                        associations: maxAssociationsPerClient
                    ),
                    latency: .milliseconds(latency),
                    cutDatagramsAt: cutDatagrams
                ),
                group: group,
                log: log
            )
            if let echo, let endpoint = IPEndpoint(echo) {
                echoService = try await UDPEchoService.start(on: endpoint, group: group)
                log(RelayEvent(kind: .listening, client: nil, message: "UDP echo target on \(echoService!.listening)"))
            }
        } catch {
            Output.error("\(error)")
            try? await group.shutdownGracefully()
            throw Exit.operationFailed
        }
        await stop.wait()
        await server.stop()
        await echoService?.stop()
        // The event loops end first, closing every connection still open: what they log comes
        // before the statistics, which are then final and the last line.
        try? await group.shutdownGracefully()
        let summary = "stopped: " + Self.summary(server.statistics)
        if json {
            // The same line as every event's, with the statistics as numbers beside the words.
            Output.json(StoppedLine(time: Date(), message: summary, statistics: .init(server.statistics)))
        } else {
            log(RelayEvent(kind: .stopped, client: nil, message: summary))
        }
    }
}

extension ServeCommand {
    /// The statistics in words, for the last line of the log.
    static func summary(_ s: RelayStatistics) -> String {
        "\(s.connectionsAccepted) connections, \(s.associationsOpened) associations, \(s.connectsOpened) CONNECTs, "
            + "\(s.datagramsToTargets) datagrams to targets, \(s.datagramsToClients) to clients"
            + (s.datagramsCut == 0 ? "" : ", \(s.datagramsCut) cut") + ", drops "
            + (s.drops.isEmpty
                ? "none" : s.drops.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ","))
            + "; \(s.negotiationTimeouts) closed for no request in time, "
            + "\(s.connectionsOverClientLimit) connections and \(s.associationsOverClientLimit) associations "
            + "refused over a per-client bound, \(s.refusals) refusals in all"
    }

    /// `--json-log`'s last object: the `stopped` event, with the statistics as numbers.
    struct StoppedLine: Encodable {
        var time: Date
        var event = RelayEvent.Kind.stopped.rawValue
        var message: String
        var statistics: Statistics
    }

    struct Statistics: Encodable {
        var connectionsAccepted, associationsOpened, connectsOpened, refusals: Int
        var negotiationTimeouts, connectionsOverClientLimit, associationsOverClientLimit: Int
        var datagramsToTargets, datagramsToClients, datagramsCut: Int
        var drops: [String: Int]

        init(_ s: RelayStatistics) {
            connectionsAccepted = s.connectionsAccepted
            associationsOpened = s.associationsOpened
            connectsOpened = s.connectsOpened
            refusals = s.refusals
            negotiationTimeouts = s.negotiationTimeouts
            connectionsOverClientLimit = s.connectionsOverClientLimit
            associationsOverClientLimit = s.associationsOverClientLimit
            datagramsToTargets = s.datagramsToTargets
            datagramsToClients = s.datagramsToClients
            datagramsCut = s.datagramsCut
            drops = Dictionary(uniqueKeysWithValues: s.drops.map { ($0.key.rawValue, $0.value) })
        }
    }
}

extension SourceCheck: ExpressibleByArgument {}
extension NATBehaviour: ExpressibleByArgument {}
