#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Options for the SOCKS5 operations of the Swift API.
public struct SOCKS5Options: Sendable {
    /// Offer RFC 1929 username/password with these; "no authentication" is always offered.
    public var credentials: Credentials?
    /// The bound on each message of the handshake when the socket has no SO_RCVTIMEO.
    public var timeoutMilliseconds: Int32
    /// Sends the request with the greeting when no credentials are given: one round trip fewer
    /// (see `ClientHandshake.init(command:address:credentials:pipelining:)`). Off by default:
    /// RFC 1928 does not promise that a server reads past the greeting.
    public var pipelining: Bool
    /// Called with what the handshake writes and reads (see `HandshakeTrace`); nil traces nothing.
    public var trace: HandshakeTrace?

    public init(
        credentials: Credentials? = nil,
        timeoutMilliseconds: Int32 = defaultHandshakeTimeoutMilliseconds,
        pipelining: Bool = false,
        trace: HandshakeTrace? = nil
    ) {
        self.trace = trace
        self.credentials = credentials
        self.timeoutMilliseconds = timeoutMilliseconds
        self.pipelining = pipelining
    }
}

/// The SOCKS5 client operations on sockets the caller owns: the Swift face of the AIX API.
/// Each connects the given SOCK_STREAM socket to the server, runs the handshake, and leaves the
/// socket open on failure, as connect(2) does.
public enum SOCKS5Client {
    /// UDP ASSOCIATE. `declaredSource` is what the request declares as DST (the address the data
    /// socket will send from); nil declares the all-zero address of `family`, which servers
    /// answer with a rendezvous of that family. `serverAddresses`: the server name's other
    /// addresses, for the rendezvous rule (an unspecified BND of the other family).
    public static func associateUDP(
        controlSocket fd: Int32,
        server: IPEndpoint,
        family: AddressFamily,
        declaredSource: IPEndpoint? = nil,
        options: SOCKS5Options = SOCKS5Options(),
        alreadyConnected: Bool = false,
        serverAddresses: [IPAddress] = []
    ) throws(SOCKS5Error) -> RendezvousAddress {
        let declared: SOCKSAddress = declaredSource.map { .ip($0) } ?? .unspecified(family)
        let reply = try request(
            .udpAssociate,
            address: declared,
            socket: fd,
            server: server,
            options: options,
            connect: !alreadyConnected
        )
        return try RendezvousAddress(reply: reply.boundAddress, server: server, serverAddresses: serverAddresses)
    }

    /// CONNECT: afterwards the socket's bytes reach `target`. Returns the server's reply (BND is
    /// the server's outgoing address).
    public static func connect(
        controlSocket fd: Int32,
        server: IPEndpoint,
        target: SOCKSAddress,
        options: SOCKS5Options = SOCKS5Options()
    ) throws(SOCKS5Error) -> SOCKSReply {
        try request(.connect, address: target, socket: fd, server: server, options: options)
    }

    /// BIND, first half: returns the first reply, whose BND is where the server listens.
    public static func bind(
        controlSocket fd: Int32,
        server: IPEndpoint,
        expectedPeer: SOCKSAddress,
        options: SOCKS5Options = SOCKS5Options()
    ) throws(SOCKS5Error) -> SOCKSReply {
        try request(.bind, address: expectedPeer, socket: fd, server: server, options: options, stopAtBound: true)
    }

    /// BIND, second half: waits for the second reply, whose BND is the peer that connected.
    /// Like accept(2) it waits as long as it takes, unless the socket has SO_RCVTIMEO.
    public static func acceptBound(controlSocket fd: Int32) throws(SOCKS5Error) -> SOCKSReply {
        var machine = ClientHandshake.awaitingSecondBindReply(address: .unspecified(.ipv4))
        return try BlockingHandshake(socket: fd, timeoutMilliseconds: .max).run(&machine)
    }

    static func request(
        _ command: Command,
        address: SOCKSAddress,
        socket fd: Int32,
        server: IPEndpoint,
        options: SOCKS5Options,
        stopAtBound: Bool = false,
        connect: Bool = true
    ) throws(SOCKS5Error) -> SOCKSReply {
        try SocketOperations.checkStreamSocket(fd, for: server)
        if connect { try SocketOperations.connect(fd, to: server) }
        if let trace = options.trace, let local = IPEndpoint.local(of: fd), let remote = IPEndpoint.peer(of: fd) {
            trace.connected(local, remote)
        }
        var machine = ClientHandshake(
            command: command,
            address: address,
            credentials: options.credentials,
            pipelining: options.pipelining
        )
        var handshake = BlockingHandshake(socket: fd, timeoutMilliseconds: options.timeoutMilliseconds)
        handshake.trace = options.trace
        return try handshake.run(&machine, stopAtBound: stopAtBound)
    }
}
