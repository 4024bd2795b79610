// libFuzzer target: the socks5c.conf parser and the server choice, on arbitrary text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let configuration = try? ClientConfiguration(parsing: text) else { return 0 }
    for destination in ["10.1.2.3", "127.0.0.1", "::1", "2001:db8::7"] {
        // Name records are matched against a fixed name: no lookup ever leaves the process.
        if let record = configuration.bestRecord(for: IPAddress(destination)!, reverseName: { "host.example.org" }) {
            precondition(configuration.records.contains(record), "chose a record that is not in the file")
        }
    }
    return 0
}
