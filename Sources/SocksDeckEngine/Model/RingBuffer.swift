/// A bounded buffer that keeps the newest `capacity` elements. Storage is allocated once, so
/// appending on a hot path allocates nothing.
public struct RingBuffer<Element: Sendable>: Sendable {
    private var storage: [Element?]
    private var next = 0
    public private(set) var count = 0
    /// Elements appended over the buffer's life, including those pushed out.
    public private(set) var totalAppended = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        storage = Array(repeating: nil, count: capacity)
    }

    public var capacity: Int { storage.count }

    public mutating func append(_ element: Element) {
        storage[next] = element
        next = (next + 1) % storage.count
        count = min(count + 1, storage.count)
        totalAppended += 1
    }

    /// Oldest first.
    public var elements: [Element] {
        let start = (next - count + storage.count) % storage.count
        return (0..<count).compactMap { storage[(start + $0) % storage.count] }
    }
}
