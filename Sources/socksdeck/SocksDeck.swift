import ArgumentParser
import Foundation

@main
struct SocksDeck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socksdeck",
        abstract: "Debug SOCKS5 proxies over UDP: open associations, send datagrams, decode errors.",
        discussion: """
            SERVER is the name of a server in the configuration file, or an address given on the spot: \
            host:port, [IPv6]:port, socks5://host:port, socks5://user@host:port (password from \
            SOCKS_PASSWORD) or socks5://user:password@host:port. An address without a user takes \
            SOCKS_USERNAME and SOCKS_PASSWORD when they are set.

            Configuration: --config FILE, else $XDG_CONFIG_HOME/socksdeck/config.toml \
            (~/.config/socksdeck/config.toml).

            Without a subcommand, socksdeck starts the terminal UI (on the built-in demo when there \
            is no configuration file).

            Exit codes (every one the program returns):
              0   success
              1   the SOCKS operation failed (the decoded error on stderr);
                  over a list, a server was refused, unreachable or timed out
              3   no usable reply within --wait-reply, or a check got no usable
                  answer; over a list, a server carries no data
              64  bad arguments, or a server list line that is not a server
              65  a capture to replay is not one, or is damaged (--replay)
              66  an input file is missing or unreadable (--file, --replay,
                  --config, --servers-from)
              71  a local address cannot be bound (forward's LOCAL)
              73  a capture file cannot be created (--pcap)
              74  output could not be written: standard output failed (a full
                  disk), or a capture could not be written whole
              78  the configuration file is broken, or a configured server
                  cannot be used
            When the reader of standard output goes away (`socksdeck watch … | head -1`), the \
            command ends quietly with 0.
            """,
        version: "0.1.0",
        subcommands: [
            TUICommand.self, ServersCommand.self, AssociateCommand.self, SendCommand.self, CheckCommand.self,
            ProbeCommand.self, LoadCommand.self,
            WatchCommand.self, ForwardCommand.self, ServeCommand.self, DecodeCommand.self, GetservCommand.self,
        ],
        defaultSubcommand: TUICommand.self
    )

    static func main() async {
        // A closed pipe must not kill the process with SIGPIPE: Output sees EPIPE and ends quietly.
        signal(SIGPIPE, SIG_IGN)
        if let unknown = unknownSubcommand(in: Array(CommandLine.arguments.dropFirst())) {
            Output.error(unknown)
            Self.exit(withError: ExitCode.validationFailure)
        }
        await main(nil)
    }

    /// The words for a first argument that names no subcommand. The UI (the default subcommand)
    /// takes no positional argument, so without this ArgumentParser would answer a typo such as
    /// `socksdeck sned` with the usage of `ui`.
    static func unknownSubcommand(in arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
        guard !names.contains(first) else { return nil }
        return "'\(first)' is not a subcommand (subcommands: \(names.joined(separator: ", "))); see socksdeck --help"
    }
}
