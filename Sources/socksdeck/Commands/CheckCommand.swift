import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine
import UDPChecks

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a proxy's UDP with real services through one association: DNS, NTP, STUN, NAT, QUIC.",
        discussion: """
            Opens one association and runs each check through it, in the order DNS, NTP, STUN, NAT, \
            QUIC: a line per check with its evidence. No echo server needed: a resolver, a time server or a \
            STUN server anywhere the relay can reach. A target given by host name goes to the proxy \
            as a name (ATYP 3) unless --resolve. Ports default to 53, 123, 3478 and 443. Public services \
            a user can rely on: --dns 9.9.9.9 or 1.1.1.1, --ntp pool.ntp.org, --stun \
            stun.l.google.com:19302 (SocksDeck's tests never contact them). Exit 0 when every check \
            passed, 1 when the association failed, 3 when a check got no usable answer. Several \
            servers (arguments, or --servers-from a list) are vetted --parallel at a time, with a \
            progress line on a terminal, JSON lines as they finish with --json, and a table sorted \
            by verdict (works; answers, but a check failed; accepts but carries no data; refused; \
            unreachable; timed out) with the counts; the exit code is the worst verdict's.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @OptionGroup var capture: CaptureOptions
    @Argument(help: "Configured server names, or host:port / socks5://[user@]host:port; several are checked at once.")
    var servers: [String] = []
    @Option(
        name: .customLong("servers-from"),
        help: ArgumentHelp(
            "Servers to check, one socks5://[user[:pass]@]host:port a line, '#' comments; - for stdin.",
            valueName: "FILE"
        )
    )
    var serversFrom: String?
    @Option(
        help: ArgumentHelp(
            "How many servers are checked at the same time (1 to 1024; by default as many as the list and the "
                + "descriptor limit allow).",
            valueName: "N"
        )
    )
    var parallel: Int?
    @Option(help: ArgumentHelp("A DNS resolver to query through the relay.", valueName: "HOST[:PORT]")) var dns:
        [String] = []
    @Option(
        help: ArgumentHelp("The name to ask for (default: the server's dns_name, else example.com).", valueName: "NAME")
    )
    var name: String?
    @Option(help: ArgumentHelp("The record type: A, AAAA, TXT, MX, … or a number.", valueName: "TYPE")) var type = "A"
    @Option(help: ArgumentHelp("An NTP server to ask the time through the relay.", valueName: "HOST[:PORT]")) var ntp:
        [String] = []
    @Option(help: ArgumentHelp("A STUN server to learn the relay's public address from.", valueName: "HOST[:PORT]"))
    var stun: [String] = []
    @Option(
        help: ArgumentHelp(
            "The relay's NAT behaviour (RFC 5780 mapping and filtering), with a STUN server that gives OTHER-ADDRESS.",
            valueName: "HOST[:PORT]"
        )
    )
    var nat: [String] = []
    @Option(
        help: ArgumentHelp(
            "A QUIC server: a 1,200-byte Initial of an unknown version draws its Version Negotiation, which proves "
                + "HTTP/3-sized datagrams pass.",
            valueName: "HOST[:PORT]"
        )
    )
    var quic: [String] = []
    @OptionGroup var familyOption: FamilyOption
    @Flag(help: "Resolve target host names here and send their addresses instead of the names.") var resolve = false
    @Flag(help: "One JSON object: the association and every check.") var json = false

    func validate() throws {
        if servers.isEmpty && serversFrom == nil {
            throw ValidationError("name a server (or several, or --servers-from FILE)")
        }
        if let parallel, !(1...Fleet.maximumParallel).contains(parallel) {
            throw ValidationError("--parallel takes 1 to \(Fleet.maximumParallel)")
        }
        if DNSRecordType(name: type) == nil {
            throw ValidationError("--type '\(type)' is not a record type (A, AAAA, TXT, MX, … or a number)")
        }
        for (kind, values) in requested {
            for v in values where kind.target(v) == nil {
                throw ValidationError("--\(kind) '\(v)' is not host, host:port, an IP address or [IPv6]:port")
            }
        }
        if let name {
            do { _ = try DNSQuery(id: 1, name: name, type: .a).encoded() } catch {
                throw ValidationError("--name '\(name)': \(error)")
            }
        }
    }

    /// The targets given on the command line, by kind, in the order the checks run.
    private var requested: [(CheckKind, [String])] {
        [(.dns, dns), (.ntp, ntp), (.stun, stun), (.nat, nat), (.quic, quic)]
    }

    /// The checks in order, targets resolved here only with --resolve. Without any option, the
    /// server's configured ones (dns, ntp, stun, quic in its [[server]] table).
    func checks(for server: ServerDefinition) throws -> [ServiceCheck] {
        var targets = requested.map { kind, values in (kind, values.map { kind.target($0)! }) }
        if targets.allSatisfy({ $0.1.isEmpty }) {
            targets = CheckTargets.configuredKinds.map { kind in (kind, server.checkTargets[kind].map { [$0] } ?? []) }
            guard targets.contains(where: { !$0.1.isEmpty }) else {
                Output.error(
                    "give at least one of --dns, --ntp, --stun, --nat, --quic "
                        + "(or set dns, ntp, stun or quic for server '\(server.name)')"
                )
                throw Exit.usage
            }
        }
        let recordType = DNSRecordType(name: type)!
        let name = self.name ?? server.checkTargets.dnsName ?? "example.com"
        return try targets.flatMap { kind, addresses in
            try addresses.map { address throws -> ServiceCheck in
                let target = resolve ? try resolvedHere(address) : address
                return switch kind {
                case .dns: .dns(resolver: target, name: name, type: recordType)
                case .ntp: .ntp(server: target)
                case .stun: .stun(server: target)
                case .nat: .nat(server: target)
                case .quic: .quic(server: target)
                }
            }
        }
    }

    func run() async throws {
        let entries = try Fleet.entries(arguments: servers, file: serversFrom)
        guard entries.count > 1 else {
            let server = entries[0].text
            try await options.withConfiguration(serverName: server) { try await execute($0, server: server) }
            return
        }
        try await options.withConfiguration(serverName: entries[0].text) {
            try await executeMany($0, entries: entries)
        }
    }

    private func execute(_ configuration: DeckConfiguration, server: String) async throws {
        let definition = declaration.applied(to: try options.server(server, in: configuration))
        let planned = try checks(for: definition)
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        let (id, settled) = try await openAssociatedOrExit(
            engine,
            definition,
            family: familyOption.requested,
            json: json
        )
        var results: [CheckResult] = []
        for check in planned {
            let result: CheckResult
            // --nat alone: the association opened here has carried nothing, so the NAT test uses
            // it rather than opening another one.
            do { result = try await engine.run(check, through: id, natReusesUnused: true) } catch {
                Output.error(error.description)
                await engine.shutdown()
                throw Exit.operationFailed
            }
            results.append(result)
            if !json { Self.print(result) }
        }
        let last = await engine.snapshot(id) ?? settled
        await engine.close(id)
        await engine.shutdown()
        if json {
            struct Report: Encodable {
                var association: AssociationJSON
                var checks: [CheckResultJSON]
            }
            Output.json(Report(association: AssociationJSON(last), checks: results.map(CheckResultJSON.init)))
        }
        if results.contains(where: { !$0.passed }) { throw Exit.noReply }
    }

    static func print(_ r: CheckResult) {
        let mark = r.passed ? "✔" : r.answered ? "✘" : "✘"
        Output.line(
            "\(mark) \(r.check.rawValue.uppercased()) \(r.target)  \(r.summary)"
                + (r.roundTrip.map { String(format: ", RTT %.2f ms", $0.milliseconds) } ?? "")
        )
        for line in r.evidence { Output.line("    \(line)") }
    }
}
