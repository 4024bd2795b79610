import Socks5

// libFuzzer target: the TOML configuration loader (TOMLKit's parser, then SocksDeck's checks of
// every [[server]]) on arbitrary text. Whatever the text, it either loads into servers that hold
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
    } catch {
        precondition(!error.message.isEmpty, "an error without a message")
    }
    return 0
}
