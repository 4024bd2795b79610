/// A NAT behaviour (RFC 4787 §4.1, §5; RFC 5780's tests tell them apart). For mapping: one outbound
/// socket per association (and family), per destination address, or per destination address and
/// port. For filtering: which senders an outbound socket takes: anyone, an address it has sent to,
/// or an address and port it has sent to.
package enum NATBehaviour: String, CaseIterable, Sendable {
    case endpointIndependent = "endpoint-independent"
    case addressDependent = "address-dependent"
    case addressAndPortDependent = "address-and-port-dependent"
}
