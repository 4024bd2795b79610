/// The ports the services listen on when a target names none.
public enum WellKnownPort {
    public static let dns: UInt16 = 53
    public static let ntp: UInt16 = 123
    public static let stun: UInt16 = 3478
    /// HTTP/3 over QUIC (RFC 9114).
    public static let https: UInt16 = 443
}
