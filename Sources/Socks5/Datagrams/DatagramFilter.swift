/// Which datagrams are taken, decided once for every path that reads them: the blocking layer
/// and the C API (`DatagramIO.receive`), the engine's data socket (`RelayDatagramHandler`) and the
/// relay's client-facing socket (`socksdeck serve`). Pure: bytes and addresses in, a verdict out.
public enum DatagramFilter {
    /// A datagram taken: its header and where its payload starts.
    public struct Accepted: Sendable, Equatable {
        public var header: UDPDatagramHeader
        public var payloadOffset: Int
    }

    /// The verdict. Not a `Result`: a generic type's metadata is made at its first use, an
    /// allocation the datagram path's zero-allocation tests would rightly count.
    public enum Verdict: Sendable, Equatable {
        case accepted(Accepted)
        case dropped(DatagramDropReason)
    }

    /// A datagram that reached a client's data socket, with `headerBytes` its first bytes (at
    /// least the header's, up to all of it) and `length` its whole length. It must come from the
    /// relay (`source` the same peer as `relay`, IPv4-mapped or not), be no longer than
    /// `largestWhole` when the reader's buffer may have cut it, carry a header that parses, and
    /// not be a fragment.
    public static func atClient(
        source: IPEndpoint?,
        relay: IPEndpoint?,
        length: Int,
        largestWhole: Int? = nil,
        headerBytes: UnsafeRawBufferPointer
    ) -> Verdict {
        guard let source, let relay, source.isSamePeer(as: relay) else { return .dropped(.notFromRelay) }
        return header(length: length, largestWhole: largestWhole, headerBytes: headerBytes)
    }

    /// The rules on the datagram itself, for either side (the relay checks its source first, by
    /// its own `SourceCheck`): its size, a header that parses, FRAG 0.
    public static func header(
        length: Int,
        largestWhole: Int? = nil,
        headerBytes: UnsafeRawBufferPointer
    ) -> Verdict {
        if let largestWhole, length > largestWhole { return .dropped(.oversize) }
        // do/catch, not try?: an optional of the parse's tuple needs type metadata made at its
        // first use, an allocation the zero-allocation tests count.
        let parsed: (header: UDPDatagramHeader, payloadOffset: Int)
        do {
            parsed = try UDPDatagramHeader.parse(headerBytes)
        } catch {
            return .dropped(.malformedHeader)
        }
        guard parsed.header.fragment == 0 else { return .dropped(.fragmented) }
        return .accepted(Accepted(header: parsed.header, payloadOffset: parsed.payloadOffset))
    }
}
