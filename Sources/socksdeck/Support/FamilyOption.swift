import ArgumentParser
import Socks5

/// `--family 4|6`: the rendezvous family UDP ASSOCIATE asks for, shared by every command that
/// opens an association. ArgumentParser refuses any other value, naming the two.
struct FamilyOption: ParsableArguments {
    enum Family: String, ExpressibleByArgument, CaseIterable {
        case four = "4"
        case six = "6"
    }

    @Option(
        help: ArgumentHelp(
            "The rendezvous family to ask for: 4 or 6 (default: the family of the server's address).",
            valueName: "4|6"
        )
    )
    var family: Family?

    /// The family asked for; nil lets the engine choose by the server's address.
    var requested: AddressFamily? {
        family.map { $0 == .four ? .ipv4 : .ipv6 }
    }
}
