/// The client's first message: `05 NMETHODS METHODS...`.
public struct ClientGreeting: Hashable, Sendable, WireEncodable {
    public var methods: [AuthenticationMethod]

    /// `methods` must hold 1 to 255 methods.
    public init(methods: [AuthenticationMethod]) {
        precondition((1...255).contains(methods.count), "a greeting offers 1 to 255 methods")
        self.methods = methods
    }

    public var encodedLength: Int { 2 + methods.count }

    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        var w = ByteWriter(buffer)
        w.write(socksVersion)
        w.write(UInt8(methods.count))
        for m in methods { w.write(m.rawValue) }
    }
}
