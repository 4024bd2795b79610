import Socks5
import UDPChecks

/// Which outbound socket a datagram leaves by: per family (endpoint-independent mapping), per
/// destination address, or per destination address and port.
struct OutboundKey: Hashable {
    var family: AddressFamily
    var address: IPAddress?
    var port: UInt16?

    init(_ target: IPEndpoint, mapping: NATBehaviour) {
        family = target.family
        address = mapping == .endpointIndependent ? nil : target.address
        port = mapping == .addressAndPortDependent ? target.port : nil
    }
}
