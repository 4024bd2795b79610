import Socks5

/// One forward as ssh's `-L` habit writes it, `LOCAL=TARGET`: datagrams that arrive at LOCAL go
/// through the proxy to TARGET, and TARGET's replies come back to whoever sent them.
package struct ForwardSpec: Sendable, Hashable, CustomStringConvertible {
    /// Where the forward listens: an IP literal (a name here would be resolved off the machine).
    package var local: IPEndpoint
    /// Where the datagrams go: an address, or a name the server resolves (ATYP 3).
    package var target: SOCKSAddress

    package init(local: IPEndpoint, target: SOCKSAddress) {
        self.local = local
        self.target = target
    }

    /// Reads `127.0.0.1:5353=9.9.9.9:53` or `[::1]:4433=quic.example:443`; the error names the
    /// part that is wrong and what it should look like.
    package init(parsing text: String) throws(ForwardSpecError) {
        guard let equals = text.firstIndex(of: "=") else {
            throw ForwardSpecError(text, "no '=': write LOCAL=TARGET, e.g. 127.0.0.1:5353=192.0.2.53:53")
        }
        let (localText, targetText) = (String(text[..<equals]), String(text[text.index(after: equals)...]))
        guard let local = IPEndpoint(localText) else {
            throw ForwardSpecError(
                text,
                "LOCAL '\(localText)' is not an IP address and port (127.0.0.1:5353, [::1]:5353)"
            )
        }
        guard local.port != 0 else {
            throw ForwardSpecError(text, "LOCAL '\(localText)' has port 0: applications need a port to send to")
        }
        guard let target = SOCKSAddress(destination: targetText) else {
            throw ForwardSpecError(
                text,
                "TARGET '\(targetText)' is not host:port ([IPv6]:port, a port from 1 to 65535)"
            )
        }
        self.init(local: local, target: target)
    }

    package var description: String { "\(local)=\(target)" }
}

/// A `LOCAL=TARGET` that cannot be read, with the reason in words.
package struct ForwardSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    package let text: String
    package let reason: String

    init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }

    package var description: String { "'\(text)': \(reason)" }
}
