/// Payload bytes written as hex, the way people paste them: "68 69", "68:69", "0x6869".
public enum HexPayload {
    /// nil when the text is not an even number of hex digits.
    public static func parse(_ text: String) -> [UInt8]? {
        var digits = Substring(text.filter { !$0.isWhitespace && $0 != ":" })
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
