/// PostgreSQL's `COPY ... TO STDOUT` text format: what a reader of its lines needs beyond splitting them at tabs
/// (``PostgresConnection/copyOut(_:_:)``; numbers in bulk are read with ``CopyBinaryFields`` instead).
public enum CopyText {
    /// Appends `field` to `bytes` with COPY's backslash escapes (`\t`, `\n`, `\\`, ...) undone.
    public static func unescape(_ field: UnsafeRawBufferPointer, into bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + field.count)
        var index = 0
        while index < field.count {
            var byte = field[index]
            if byte == 92, index + 1 < field.count {
                index += 1
                switch field[index] {
                case 116: byte = 9
                case 110: byte = 10
                case 114: byte = 13
                case 98: byte = 8
                case 102: byte = 12
                case 118: byte = 11
                default: byte = field[index]
                }
            }
            bytes.append(byte)
            index += 1
        }
    }
}
