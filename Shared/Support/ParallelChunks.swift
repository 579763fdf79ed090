import Dispatch

/// Data-parallel loops over the machine's cores, for passes over a whole customer base (scoring's models).
///
/// Work is cut into chunks of a fixed size and the chunks' results are combined in chunk order, so a sum comes
/// out the same to the last bit whatever the number of cores (floating-point addition is not associative).
public enum ParallelChunks {
    /// `body` of each chunk of `0..<count` of at most `chunk` elements, run concurrently; results in chunk order.
    public static func map<Result>(count: Int, chunk: Int, _ body: @Sendable (Range<Int>) -> Result) -> [Result] {
        precondition(chunk > 0, "chunks hold at least one element")
        let chunks = (count + chunk - 1) / chunk
        guard chunks > 1 else { return chunks == 0 ? [] : [body(0..<count)] }
        return array(count: chunks, chunk: 1) { index in body(index * chunk..<min((index + 1) * chunk, count)) }
    }

    /// An array of `count` elements whose element `i` is `element(i)`, filled concurrently `chunk` at a time.
    public static func array<Element>(
        count: Int,
        chunk: Int = 16_384,
        _ element: @Sendable (Int) -> Element
    ) -> [Element] {
        guard count > chunk else { return (0..<count).map(element) }
        return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each chunk initialises its own disjoint range of the buffer, which outlives the loop.
            let slots = Slots(base: buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: (count + chunk - 1) / chunk) { index in
                for i in index * chunk..<min((index + 1) * chunk, count) {
                    (slots.base + i).initialize(to: element(i))
                }
            }
            initialized = count
        }
    }

    /// The result buffer as the concurrent chunks share it: each writes only its own elements.
    private struct Slots<Element>: @unchecked Sendable {
        let base: UnsafeMutablePointer<Element>
    }
}
