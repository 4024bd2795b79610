import Testing
import Socks5

@Test func smokeAssociate() throws {
    let peers = try TestPeers.shared()
    let fd = TestSockets.stream(.ipv4)
    let r = try SOCKS5Client.associateUDP(controlSocket: fd, server: peers.server(.ipv4), family: .ipv4)
    print(r)
}
