/// The ports the services listen on when a target names none.
package enum WellKnownPort {
    package static let dns: UInt16 = 53
    package static let ntp: UInt16 = 123
    package static let stun: UInt16 = 3478
    /// HTTP/3 over QUIC (RFC 9114).
    package static let https: UInt16 = 443
}
