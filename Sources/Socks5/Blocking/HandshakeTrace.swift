/// What a blocking handshake did on its control connection, as it happened: for a capture
/// (`socksdeck probe --pcap`) or a debug log. The callbacks run on the caller's thread, in order;
/// nothing is traced unless one is given (`SOCKS5Options.trace`).
public struct HandshakeTrace: Sendable {
    /// The connection is up: its local and remote ends.
    public var connected: @Sendable (_ local: IPEndpoint, _ remote: IPEndpoint) -> Void
    /// Bytes written to the server (the password too: a consumer that keeps them masks it).
    public var wrote: @Sendable (_ bytes: [UInt8]) -> Void
    /// Bytes read from the server.
    public var read: @Sendable (_ bytes: [UInt8]) -> Void

    public init(
        connected: @escaping @Sendable (_ local: IPEndpoint, _ remote: IPEndpoint) -> Void,
        wrote: @escaping @Sendable (_ bytes: [UInt8]) -> Void,
        read: @escaping @Sendable (_ bytes: [UInt8]) -> Void
    ) {
        self.connected = connected
        self.wrote = wrote
        self.read = read
    }
}
