/// One row of `COPY ... FROM STDIN (FORMAT binary)`, written field by field in the columns' order, each in
/// PostgreSQL's binary send format of the column's type (big-endian, a 4-byte length before each field, -1 for NULL).
///
/// Binary COPY spares both sides the text: the client formats no number and the server parses none, which halves
/// the server's time for a million staged scores (1.5 s against 3.0 s). The writer checks nothing against the
/// table: a field of the wrong width or type is the server's error, naming the column. Used through
/// ``PostgresConnection/copyBinary(into:columns:rows:row:)``, which starts each row and sends the buffer as it grows.
public struct CopyBinaryRow: ~Copyable {
    // A buffer of its own rather than `[UInt8]`: a field is a few bytes, and appending them to an array one
    // `append(contentsOf:)` at a time was a fifth of the full rescoring's write phase on the client.
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// Bytes written and not yet sent.
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        storage = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// The bytes written so far, for sending.
    var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    /// Forgets what was written (after it was sent), keeping the buffer.
    mutating func removeAll() { count = 0 }

    /// The header every binary COPY stream starts with: its signature, no flags, no extension area.
    static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    /// The trailer: a field count of -1.
    static let trailer: [UInt8] = [0xFF, 0xFF]

    mutating func start(fields: Int) {
        append(Int16(fields))
    }

    /// SQL NULL.
    public mutating func null() {
        append(Int32(-1))
    }

    /// A `text` (or `varchar`) field: the UTF-8 bytes; nil is NULL.
    public mutating func text(_ value: String?) {
        guard var value else { return null() }
        value.withUTF8 { utf8 in
            append(Int32(utf8.count))
            append(UnsafeRawBufferPointer(utf8))
        }
    }

    /// A `smallint` field; nil is NULL. The value must fit in 16 bits.
    public mutating func int16(_ value: Int?) {
        guard let value else { return null() }
        append(Int32(2))
        append(Int16(value))
    }

    /// An `integer` field; nil is NULL. The value must fit in 32 bits.
    public mutating func int32(_ value: Int?) {
        guard let value else { return null() }
        append(Int32(4))
        append(Int32(value))
    }

    /// A `double precision` field; nil, NaN and the infinities are NULL, as a figure that is not a number is
    /// stored as none.
    public mutating func float8(_ value: Double?) {
        guard let value, value.isFinite else { return null() }
        append(Int32(8))
        append(value.bitPattern)
    }

    /// A `boolean` field; nil is NULL.
    public mutating func bool(_ value: Bool?) {
        guard let value else { return null() }
        append(Int32(1))
        append(UInt8(value ? 1 : 0))
    }

    mutating func append(_ raw: UnsafeRawBufferPointer) {
        reserve(raw.count)
        if let base = raw.baseAddress { (storage + count).copyMemory(from: base, byteCount: raw.count) }
        count += raw.count
    }

    private mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
        reserve(MemoryLayout<Integer>.size)
        storage.storeBytes(of: value.bigEndian, toByteOffset: count, as: Integer.self)
        count += MemoryLayout<Integer>.size
    }

    private mutating func reserve(_ bytes: Int) {
        guard count + bytes > capacity else { return }
        let grown = max(capacity * 2, count + bytes)
        let larger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
        larger.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = larger
        capacity = grown
    }
}
