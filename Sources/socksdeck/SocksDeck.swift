import ArgumentParser

@main
struct SocksDeck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socksdeck",
        abstract: "Debug SOCKS5 proxies over UDP: open associations, send datagrams, decode errors.",
        discussion: """
            SERVER is the name of a server in the configuration file, or an address given on the spot: \
            host:port, [IPv6]:port, socks5://host:port, socks5://user@host:port (password from \
            SOCKS_PASSWORD) or socks5://user:password@host:port.

            Configuration: --config FILE, else $XDG_CONFIG_HOME/socksdeck/config.toml \
            (~/.config/socksdeck/config.toml).

            Without a subcommand, socksdeck starts the terminal UI (on the built-in demo when there \
            is no configuration file).

            Exit codes: 0 success; 1 the SOCKS operation failed (decoded error on stderr); \
            3 datagrams sent but no reply within --wait-reply; 64 bad arguments; 66 an input file \
            is missing; 78 the configuration file is broken.
            """,
        version: "0.1.0",
        subcommands: [TUICommand.self, ServersCommand.self, AssociateCommand.self, SendCommand.self, ProbeCommand.self, WatchCommand.self, ServeCommand.self, DecodeCommand.self, GetservCommand.self],
        defaultSubcommand: TUICommand.self
    )
}
