import Glibc
import Testing

@testable import Socks5

/// The one rule for an unspecified BND: the server's address in BND's family.
@Suite struct RendezvousAddressTests {
    static func rendezvous(
        _ bound: String,
        server: String,
        others: [String] = []
    ) throws(SOCKS5Error) -> RendezvousAddress {
        try RendezvousAddress(
            reply: .ip(IPEndpoint(bound)!),
            server: IPEndpoint(server)!,
            serverAddresses: others.compactMap(IPAddress.init)
        )
    }

    @Test func aConcreteBNDIsUsedAsSent() throws {
        let r = try Self.rendezvous("[::1]:5000", server: "127.0.0.1:1080")
        #expect(r.asUsed == IPEndpoint("[::1]:5000")! && r.substitution == .none && r.description == "[::1]:5000")
    }

    @Test func anUnspecifiedBNDOfTheServersFamilyIsTheServersAddress() throws {
        let r = try Self.rendezvous("0.0.0.0:5000", server: "192.0.2.7:1080")
        #expect(r.asUsed == IPEndpoint("192.0.2.7:5000")! && r.substitution == .serverAddress)
        #expect(
            r.description
                == "192.0.2.7:5000 (the server sent BND 0.0.0.0:5000: unspecified, so the server's address 192.0.2.7)"
        )
    }

    /// Measured with asyncio-socks-server: reached at [::1], it answers BND 0.0.0.0:P and only
    /// 127.0.0.1:P answers. The family of BND is kept.
    @Test func anUnspecifiedIPv4BNDOverIPv6KeepsIPv4() throws {
        let loopback = try Self.rendezvous("0.0.0.0:5000", server: "[::1]:1080")
        #expect(loopback.asUsed == IPEndpoint("127.0.0.1:5000")! && loopback.substitution == .loopbackOfBoundFamily)
        #expect(loopback.description.contains("unspecified IPv4 over an IPv6 control connection to ::1"))
        let mapped = try Self.rendezvous("0.0.0.0:5000", server: "[::ffff:192.0.2.7]:1080")
        #expect(mapped.asUsed == IPEndpoint("192.0.2.7:5000")! && mapped.substitution == .unmappedServerAddress)
        let named = try Self.rendezvous("0.0.0.0:5000", server: "[2001:db8::7]:1080", others: ["192.0.2.7"])
        #expect(named.asUsed == IPEndpoint("192.0.2.7:5000")! && named.substitution == .resolvedServerAddress)
        let v6 = try Self.rendezvous("[::]:5000", server: "127.0.0.1:1080")
        #expect(v6.asUsed == IPEndpoint("[::1]:5000")!)
    }

    @Test func noAddressOfBNDsFamilyIsS5EBNDFAMILYWithWhatWasTried() {
        #expect {
            try Self.rendezvous("0.0.0.0:5000", server: "[2001:db8::7]:1080")
        } throws: { error in
            guard let e = error as? SOCKS5Error else { return false }
            return e.code == .boundAddressFamily && e.systemError == EAFNOSUPPORT
                && e.detail?.contains("no IPv4 address of it is known") == true
                && e.decoded.hint?.contains("ask for a relay of the other family") == true
        }
    }

    @Test func aDomainBNDIsS5EBNDDOMAIN() {
        #expect(throws: SOCKS5Error.self) {
            try RendezvousAddress(
                reply: .domain(DomainName("relay.example")!, port: 1),
                server: IPEndpoint("127.0.0.1:1080")!
            )
        }
    }
}

/// What UDP ASSOCIATE declares, by policy.
@Suite struct DeclaredSourceTests {
    @Test func eachPolicyDeclaresWhatItSays() {
        let local = IPAddress("127.0.0.5")
        #expect(
            DeclaredSource.zero.declaration(family: .ipv4, dataSocketPort: 4000, controlLocal: local)
                == .unspecified(.ipv4)
        )
        #expect(
            DeclaredSource.port.declaration(family: .ipv4, dataSocketPort: 4000) == .ip(IPEndpoint("0.0.0.0:4000")!)
        )
        #expect(DeclaredSource.port.declaration(family: .ipv6, dataSocketPort: 4000) == .ip(IPEndpoint("[::]:4000")!))
        #expect(
            DeclaredSource.address.declaration(family: .ipv4, dataSocketPort: 4000, controlLocal: local)
                == .ip(IPEndpoint("127.0.0.5:4000")!)
        )
        // The other family's loopback: the loopback of the family asked for.
        #expect(
            DeclaredSource.address.declaration(family: .ipv4, dataSocketPort: 4000, controlLocal: IPAddress("::1"))
                == .ip(IPEndpoint("127.0.0.1:4000")!)
        )
        // No data socket yet: all zeros, whatever the policy.
        #expect(
            DeclaredSource.address.declaration(family: .ipv6, dataSocketPort: nil, controlLocal: local)
                == .unspecified(.ipv6)
        )
        #expect(DeclaredSource.default == .port)
    }

    @Test func theDataSocketIsDualStackAndMapsIPv4Destinations() throws {
        let (fd, local) = try DataSocket.open()
        defer { close(fd) }
        #expect(local.family == .ipv6 && local.port != 0)
        #expect(DataSocket.address(IPEndpoint("127.0.0.1:9")!, for: .ipv6) == IPEndpoint("[::ffff:127.0.0.1]:9")!)
        #expect(DataSocket.address(IPEndpoint("127.0.0.1:9")!, for: .ipv4) == IPEndpoint("127.0.0.1:9")!)
        #expect(DataSocket.address(IPEndpoint("[::1]:9")!, for: .ipv6) == IPEndpoint("[::1]:9")!)
    }
}
