import ArgumentParser
import Foundation
import Socks5
import SocksDeckEngine

struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Measure what a relay carries: datagrams to an echo target, a window in flight.",
        discussion: """
            Opens an association and sends --count datagrams of --size bytes through it to TARGET \
            (host:port with an IP address, or "echo", the server's configured echo target, which is \
            the default), --window of them in flight: each echo sends the next. Says how many came \
            back, how many were lost and how fast. Each datagram is tagged (association and \
            sequence number), so that only its own echo counts. The load ends when every datagram \
            is back, or when none came back for --stall milliseconds. Exit 3 when any was lost.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @Argument(help: "A configured server name, or host:port / socks5://[user@]host:port.") var server: String
    @Argument(help: ArgumentHelp("The echo target: host:port with an IP address, or \"echo\".")) var target = "echo"
    @Option(parsing: .unconditional, help: "How many datagrams (1 to 1000000).") var count = 10_000
    @Option(parsing: .unconditional, help: "How many in flight at once (1 to 1024).") var window = 32
    @Option(
        help: ArgumentHelp(
            "Bytes per datagram (24 to 65517, as the target and the rendezvous allow; each carries a 24-byte tag).",
            valueName: "N"
        )
    )
    var size = 64
    @Option(help: ArgumentHelp("Give up when no echo came for this long.", valueName: "MS")) var stall = 1000
    @OptionGroup var familyOption: FamilyOption
    @Option(
        help: ArgumentHelp(
            "Read echoes in batches, waiting this long when fewer than a batch came (0, the default: each at once). "
                + "Less CPU per datagram, up to this much more per round trip.",
            valueName: "µS"
        )
    )
    var gather = 0
    @Flag(help: "One JSON object at the end.") var json = false

    func validate() throws {
        if !(1...1_000_000).contains(count) { throw ValidationError("--count takes 1 to 1000000") }
        if !(1...1024).contains(window) { throw ValidationError("--window takes 1 to 1024") }
        if !(24...UDPLimits.largestPayload).contains(size) {
            throw ValidationError(
                "--size takes 24 to \(UDPLimits.largestPayload) bytes (a 24-byte tag, and at most one SOCKS5 datagram)"
            )
        }
        if !(1...60_000).contains(stall) { throw ValidationError("--stall takes 1 to 60000 ms") }
        if !(0...10_000).contains(gather) { throw ValidationError("--gather takes 0 to 10000 µs") }
        if target != "echo" {
            guard let destination = SOCKSAddress(destination: target) else {
                throw ValidationError("TARGET '\(target)' is not host:port ([IPv6]:port, a port from 1 to 65535)")
            }
            guard case .ip = destination else {
                throw ValidationError(
                    "TARGET '\(target)' is a name: a load needs an IP address, as the echoes must come back from it"
                )
            }
        }
    }

    func run() async throws {
        try await options.withConfiguration(serverName: server, execute)
    }

    private func execute(_ configuration: DeckConfiguration) async throws {
        let definition = declaration.applied(to: try options.server(server, in: configuration))
        let echoTarget: IPEndpoint
        if target == "echo" {
            guard let echo = definition.echo else {
                Output.error("server '\(definition.name)' has no echo target configured: give TARGET as host:port")
                throw Exit.usage
            }
            echoTarget = echo
        } else {
            guard case .ip(let e) = SOCKSAddress(destination: target)! else { throw Exit.usage }
            echoTarget = e
        }
        let engine = SessionEngine(configuration: configuration)
        let requested: AddressFamily = familyOption.requested ?? .ipv6
        try SendCommand.refuseIfTooLarge(size, to: .ip(echoTarget), over: requested)
        let (id, settled) = try await openAssociatedOrExit(
            engine,
            definition,
            family: familyOption.requested,
            json: json
        )
        if let relay = settled.rendezvous?.asUsed.family {
            do { try SendCommand.refuseIfTooLarge(size, to: .ip(echoTarget), over: relay) } catch {
                await engine.shutdown()
                throw error
            }
        }
        let measured: EchoMeasurement
        do {
            measured = try await engine.measureEcho(
                id,
                to: echoTarget,
                count: count,
                window: window,
                payloadLength: size,
                stall: .milliseconds(stall),
                gathering: gather > 0 ? .microseconds(gather) : nil
            )
        } catch {
            Output.error(error.description)
            await engine.shutdown()
            throw Exit.operationFailed
        }
        let last = await engine.snapshot(id)
        await engine.close(id)
        await engine.shutdown()
        report(measured, to: echoTarget, through: definition, last)
        if measured.lost > 0 { throw Exit.noReply }
    }

    private func report(
        _ m: EchoMeasurement,
        to echoTarget: IPEndpoint,
        through definition: ServerDefinition,
        _ last: AssociationSnapshot?
    ) {
        if json {
            struct Summary: Encodable {
                var association: AssociationJSON?
                var target: String
                var size: Int
                var window: Int
                var gatherMicroseconds: Int
                var sent: Int
                var echoed: Int
                var lost: Int
                var seconds: Double
                var echoesPerSecond: Double
            }
            Output.json(
                Summary(
                    association: last.map(AssociationJSON.init),
                    target: echoTarget.description,
                    size: size,
                    window: window,
                    gatherMicroseconds: gather,
                    sent: m.sent,
                    echoed: m.echoed,
                    lost: m.lost,
                    seconds: (m.elapsed.milliseconds).rounded() / 1000,
                    echoesPerSecond: m.echoesPerSecond.rounded()
                )
            )
            return
        }
        let lostShare = m.sent == 0 ? 0 : Double(m.lost) / Double(m.sent) * 100
        Output.line(
            "load through \(definition.name) to \(echoTarget): \(m.sent) sent, \(m.echoed) echoed, \(m.lost) lost "
                + String(format: "(%.1f %%)", lostShare)
        )
        if m.echoed > 0 {
            Output.line(
                String(format: "%.0f echoes/s over %.3f s", m.echoesPerSecond, m.elapsed / .seconds(1))
                    + ", \(window) in flight, \(size)-byte datagrams"
                    + (gather > 0 ? ", read in batches gathered for \(gather) µs" : "")
            )
        }
        if m.lost > 0 {
            let stopped =
                m.sent < count ? "; it stopped after \(stall) ms without an echo (\(count - m.sent) not sent)" : ""
            Output.error("\(m.lost) of \(m.sent) datagrams did not come back\(stopped)")
        }
    }
}
