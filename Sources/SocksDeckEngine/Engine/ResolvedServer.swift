import Socks5

/// A server with the address to connect to and the others its name has (`SessionEngine.resolve`).
package struct ResolvedServer: Sendable, Equatable {
    package var server: ServerDefinition
    package var endpoint: IPEndpoint
    package var otherAddresses: [IPAddress]
}
