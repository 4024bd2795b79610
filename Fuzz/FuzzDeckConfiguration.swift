import Socks5

// libFuzzer target: the TOML configuration loader (TOMLKit's parser, then SocksDeck's checks of
// every [[server]] and [[forward]]) on arbitrary text. Whatever the text, it either loads into servers that hold
// together or fails with an error a person can read: no crash, no hang, no empty message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        // password_env names resolve against a fixed environment: nothing from the machine's.
        let configuration = try DeckConfiguration.parse(text, path: "fuzz.toml", environment: ["P": "secret"])
        var names = Set<String>()
        for server in configuration.servers {
            precondition(!server.name.isEmpty, "a server without a name was accepted")
            precondition(server.port > 0, "port 0 was accepted")
            precondition(names.insert(server.name).inserted, "two servers named \(server.name)")
            precondition(!server.pipelining || server.credentials == nil, "pipelining with credentials was accepted")
        }
        var locals = Set<IPEndpoint>()
        for forward in configuration.forwards {
            precondition(names.contains(forward.server), "a forward through an unknown server was accepted")
            precondition(forward.spec.local.port > 0 && forward.spec.target.port > 0, "port 0 in a forward")
            precondition(locals.insert(forward.spec.local).inserted, "two forwards listen on \(forward.spec.local)")
            precondition(forward.idleTimeout.map { $0 > .zero } ?? true, "a forward idle timeout of 0 was accepted")
        }
    } catch {
        precondition(!error.message.isEmpty, "an error without a message")
    }
    return 0
}
