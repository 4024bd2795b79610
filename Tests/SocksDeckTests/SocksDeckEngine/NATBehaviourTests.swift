import Foundation
import NIOPosix
import Socks5
import Testing
import UDPChecks

@testable import SocksDeckEngine
@testable import SocksDeckRelay

/// The NAT behaviour test (RFC 5780) with coturn on 127.0.0.1/127.0.0.2: each of the nine relays
/// `serve --mapping/--filtering` simulates is told apart, and Dante and ss-local get the verdicts
/// their designs give.
@Suite(.tags(.peers), .needsPeers, .serialized) struct NATBehaviourTests {
    static func nat(through server: ServerDefinition, _ services: UDPServices) async throws -> CheckResult {
        let results = try await ServiceCheckTests.run([.nat(server: .ip(services.stun(.ipv4)))], through: server)
        return results[0]
    }

    static let combinations: [(NATBehaviour, NATBehaviour)] = NATBehaviour.allCases.flatMap { m in
        NATBehaviour.allCases.map { (m, $0) }
    }

    @Test(arguments: combinations)
    func everySimulatedRelayIsToldApart(mapping: NATBehaviour, filtering: NATBehaviour) async throws {
        let services = try UDPServices.shared()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv4, 0)], mapping: mapping, filtering: filtering),
            group: group
        )
        let endpoint = relay.listening[0]
        let r = try await Self.nat(
            through: ServerDefinition(name: "serve", host: "127.0.0.1", port: endpoint.port),
            services
        )
        await relay.stop()
        try await group.shutdownGracefully()
        #expect(r.passed, "\(r.summary) \(r.evidence)")
        #expect(r.nat?.mapping == mapping && r.nat?.filtering == filtering, "\(r.summary)\n\(r.evidence)")
        #expect(r.nat?.legacyName != nil)
        // A filter that depends on the destination stays what it was after the mapping tests, but
        // for an address-dependent one on the one socket that also sent to the other address,
        // which it then admits (with a socket per destination, the primary's socket never did).
        let after = filtering == .addressDependent && mapping == .endpointIndependent ? .endpointIndependent : filtering
        #expect(r.nat?.filteringAfterMapping == after, "\(r.evidence)")
        #expect(!r.summary.contains("once the relay has sent"), "\(r.summary)")
    }

    /// Dante keeps one outbound socket per association (endpoint-independent mapping) and, with
    /// udp.connectdst (the default), keeps it connected while the client has one destination:
    /// port-restricted in a fresh association, endpoint-independent once it has sent elsewhere.
    @Test func danteIsPortRestrictedUntilItHasASecondDestination() async throws {
        let peers = try TestPeers.shared()
        let services = try UDPServices.shared()
        let r = try await Self.nat(
            through: ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port),
            services
        )
        #expect(
            r.nat?.mapping == .endpointIndependent && r.nat?.filtering == .addressAndPortDependent,
            "\(r.evidence)"
        )
        #expect(r.nat?.filteringAfterMapping == .endpointIndependent && r.nat?.legacyName == "port-restricted cone")
        #expect(r.summary.contains("filtering endpoint-independent once the relay has sent to other destinations"))
    }

    /// ss-server (behind ss-local) relays each client through one socket that takes any sender.
    @Test func shadowsocksIsAFullCone() async throws {
        let services = try UDPServices.shared()
        let ss = try ShadowsocksPair()
        defer { ss.stop() }
        let r = try await Self.nat(
            through: ServerDefinition(name: "ss-local", host: "127.0.0.1", port: ss.localPort),
            services
        )
        #expect(r.nat?.mapping == .endpointIndependent && r.nat?.filtering == .endpointIndependent, "\(r.evidence)")
        #expect(r.nat?.legacyName == "full cone")
    }

    /// Over IPv6 coturn has ::1 only: the other address differs in its port alone, and that is said.
    @Test func overIPv6OnlyThePortCanChange() async throws {
        let peers = try TestPeers.shared()
        let services = try UDPServices.shared()
        let results = try await ServiceCheckTests.run(
            [.nat(server: .ip(services.stun(.ipv6)))],
            through: ServerDefinition(name: "dante6", host: "::1", port: peers.danteNoAuth.port)
        )
        #expect(results[0].evidence.contains { $0.contains("only the port can change") }, "\(results[0].evidence)")
        // Dante keeps one mapping per association: the other port gets the same one, which cannot
        // tell endpoint-independent from address-dependent without a second IP. Not a ✔ (issue 29).
        let r = results[0]
        #expect(!r.passed && r.answered, "\(r.summary)")
        #expect(r.summary.hasPrefix("mapping undetermined (endpoint-independent or address-dependent"), "\(r.summary)")
        #expect(r.nat?.mapping == nil && r.nat?.legacyName == nil, "\(String(describing: r.nat))")
        #expect(!r.evidence.contains { $0.hasPrefix("mapping test II:") }, "test II would repeat test I")
    }

    /// Through serve with address-and-port-dependent mapping, the other port alone is enough to
    /// tell it, without a second IP.
    @Test func overIPv6APortDependentMappingIsStillTold() async throws {
        let services = try UDPServices.shared()
        let relay = try await RelayServer.start(
            RelayConfiguration(listen: [.loopback(.ipv6, 0)], mapping: .addressAndPortDependent),
            group: RelayServerTests.group
        )
        let results = try await ServiceCheckTests.run(
            [.nat(server: .ip(services.stun(.ipv6)))],
            through: ServerDefinition(name: "serve6", host: "::1", port: relay.listening[0].port)
        )
        #expect(results[0].passed && results[0].nat?.mapping == .addressAndPortDependent, "\(results[0].summary)")
        await relay.stop()
    }

    /// With natReusesUnused (check --nat alone), an association that has carried nothing is the
    /// fresh one the test needs: no second association is opened (issue 29).
    @Test func theNATTestUsesAnAssociationThatCarriedNothing() async throws {
        let peers = try TestPeers.shared()
        let services = try UDPServices.shared()
        let server = ServerDefinition(name: "dante", host: "127.0.0.1", port: peers.danteNoAuth.port)
        let engine = SessionEngine(configuration: DeckConfiguration(servers: [server]))
        let id = try await engine.open(server: server)
        #expect(await engine.waitUntilSettled(id, timeout: .seconds(5))?.state == .associated)
        let quick = STUNRetransmission(rto: .milliseconds(100), requests: 2, finalWaitMultiplier: 2)
        let r = try await engine.run(
            .nat(server: .ip(services.stun(.ipv4))),
            through: id,
            natRetransmission: quick,
            natReusesUnused: true
        )
        #expect(r.evidence.first == "run in \(id), through which nothing had been sent before", "\(r.evidence)")
        #expect(await engine.snapshots().count == 1, "no second association")
        #expect((await engine.snapshot(id)?.counters.datagramsSent ?? 0) > 0)
        await engine.shutdown()
    }
}

extension CheckResult {
    /// The NAT test's finding, or nil for any other.
    var nat: NATFinding? {
        if case .nat(let finding) = finding { return finding }
        return nil
    }
}

/// RFC 3489's names for RFC 4787's behaviours: only a known mapping and filtering have one.
@Test func natLegacyNamesFollowMappingAndFiltering() {
    let mapped = STUNAddress(address: [192, 0, 2, 1], port: 4000)
    func name(_ m: NATBehaviour?, _ f: NATBehaviour?) -> String? {
        NATFinding(mapped: mapped, mapping: m, filtering: f).legacyName
    }
    #expect(name(.endpointIndependent, .endpointIndependent) == "full cone")
    #expect(name(.endpointIndependent, .addressDependent) == "restricted cone")
    #expect(name(.endpointIndependent, .addressAndPortDependent) == "port-restricted cone")
    #expect(name(.addressDependent, .endpointIndependent) == "symmetric NAT")
    #expect(name(.addressAndPortDependent, .addressAndPortDependent) == "symmetric NAT")
    #expect(name(nil, .endpointIndependent) == nil && name(.endpointIndependent, nil) == nil)
}
