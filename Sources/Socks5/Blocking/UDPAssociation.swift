#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A UDP association that owns its two sockets: the TCP control connection, which keeps the
/// association alive, and the UDP data socket. Both are closed when the value goes away; it
/// cannot be copied, so they cannot be closed twice.
///
///     let association = try UDPAssociation.open(server: IPEndpoint("127.0.0.1:1080")!)
///     try association.send(Array("ping".utf8), to: .ip(IPEndpoint("127.0.0.1:9999")!))
///     var buffer = [UInt8](repeating: 0, count: 2048)
///     let datagram = try buffer.withUnsafeMutableBytes { try association.receive(into: $0) }
public struct UDPAssociation: ~Copyable {
    public let controlSocket: Int32
    public let dataSocket: Int32
    public let server: IPEndpoint
    public let rendezvous: RendezvousAddress
    /// What the request declared as DST.ADDR:DST.PORT.
    public let declaredSource: SOCKSAddress
    /// The rendezvous as the data socket addresses it (IPv4-mapped on the dual-stack socket):
    /// where raw datagrams written on `dataSocket` go, and where replies come from.
    public let relay: IPEndpoint

    /// Opens an association through `server`. `family` is the rendezvous family asked for
    /// (default: the server's); the server may answer with the other, which the dual-stack data
    /// socket reaches too. `declare` is what the request declares as DST (see `DeclaredSource`):
    /// by default the data socket's port, with the address left zero. `serverAddresses`: the
    /// server name's other addresses, which the rendezvous rule may need.
    public static func open(
        server: IPEndpoint,
        family: AddressFamily? = nil,
        options: SOCKS5Options = SOCKS5Options(),
        declare: DeclaredSource = .default,
        serverAddresses: [IPAddress] = []
    ) throws(SOCKS5Error) -> UDPAssociation {
        let family = family ?? server.family
        let (data, local) = try DataSocket.open()
        let control = socket(server.family.rawFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard control >= 0 else {
            let e = errno
            Glibc.close(data)
            throw .system(e, "socket(SOCK_STREAM)")
        }
        do throws(SOCKS5Error) {
            // The address policy needs the control connection's local address: connect first.
            if declare == .address { try SocketOperations.connect(control, to: server) }
            let declared = declare.declaration(
                family: family,
                dataSocketPort: local.port,
                controlLocal: IPEndpoint.local(of: control)?.address
            )
            let rendezvous = try SOCKS5Client.associateUDP(
                controlSocket: control,
                server: server,
                family: family,
                declaredSource: declared.endpoint,
                options: options,
                alreadyConnected: declare == .address,
                serverAddresses: serverAddresses
            )
            return UDPAssociation(
                control: control,
                data: data,
                dataFamily: local.family,
                server: server,
                rendezvous: rendezvous,
                declared: declared
            )
        } catch {
            Glibc.close(control)
            Glibc.close(data)
            throw error
        }
    }

    private init(
        control: Int32,
        data: Int32,
        dataFamily: AddressFamily,
        server: IPEndpoint,
        rendezvous: RendezvousAddress,
        declared: SOCKSAddress
    ) {
        controlSocket = control
        dataSocket = data
        relay = DataSocket.address(rendezvous.asUsed, for: dataFamily)
        self.server = server
        self.rendezvous = rendezvous
        declaredSource = declared
    }

    /// Sends one datagram to `target` through the relay.
    public func send(_ payload: UnsafeRawBufferPointer, to target: SOCKSAddress) throws(SOCKS5Error) {
        try DatagramIO.send(socket: dataSocket, payload: payload, to: target, relay: relay)
    }

    public func send(_ payload: [UInt8], to target: SOCKSAddress) throws(SOCKS5Error) {
        try payload.withUnsafeBytes { p in Result { () throws(SOCKS5Error) in try send(p, to: target) } }.get()
    }

    /// Receives the next valid datagram from the relay (see `DatagramIO.receive`).
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer,
        flags: Int32 = 0,
        dropped: (DatagramDropReason) -> Void = { _ in }
    ) throws(SOCKS5Error) -> ReceivedDatagram {
        try DatagramIO.receive(socket: dataSocket, into: buffer, relay: relay, flags: flags, dropped: dropped)
    }

    /// Sends every payload to `target` with sendmmsg, 64 per system call, and returns how many
    /// went (see `DatagramIO.send(socket:payloads:to:relay:flags:)`).
    @discardableResult
    public func send(
        _ payloads: [UnsafeRawBufferPointer],
        to target: SOCKSAddress,
        flags: Int32 = 0
    ) throws(SOCKS5Error) -> Int {
        try DatagramIO.send(socket: dataSocket, payloads: payloads, to: target, relay: relay, flags: flags)
    }

    @discardableResult
    public func send(
        _ payloads: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        to target: SOCKSAddress,
        flags: Int32 = 0
    ) throws(SOCKS5Error) -> Int {
        try DatagramIO.send(socket: dataSocket, payloads: payloads, to: target, relay: relay, flags: flags)
    }

    /// Receives what the relay has sent, at least one datagram and up to `batch.capacity`, with
    /// recvmmsg, and returns how many were taken (see
    /// `DatagramIO.receive(socket:into:relay:flags:gathering:accept:dropped:)`, and `gathering`
    /// there for a relay slower than its client).
    public func receive(
        into batch: ReceiveBatch,
        flags: Int32 = 0,
        gathering: Duration? = nil,
        dropped: (DatagramDropReason) -> Void = { _ in }
    ) throws(SOCKS5Error) -> Int {
        try DatagramIO.receive(
            socket: dataSocket,
            into: batch,
            relay: relay,
            flags: flags,
            gathering: gathering,
            dropped: dropped
        )
    }

    /// Closes both sockets now; the server ends the association when the control connection
    /// closes.
    public consuming func close() {}

    deinit {
        Glibc.close(controlSocket)
        Glibc.close(dataSocket)
    }
}
