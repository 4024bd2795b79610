import Socks5

/// A server with the address to connect to and the others its name has (`SessionEngine.resolve`).
public struct ResolvedServer: Sendable, Equatable {
    public var server: ServerDefinition
    public var endpoint: IPEndpoint
    public var otherAddresses: [IPAddress]
}
