/// MD5 (RFC 1321), for content fingerprints that must equal PostgreSQL's `md5(text)`; never for security.
///
/// Intake fingerprints each order's canonical form. Computing it here lets a batch send PostgreSQL 32 hex digits
/// per order instead of the whole canonical text, which its array parser would otherwise unescape only to hash.
public enum MD5 {
    /// The digest of `bytes` as 32 lowercase hex digits, as PostgreSQL's `md5` writes it.
    public static func hex(_ text: String) -> String {
        var text = text
        return text.withUTF8 { hex(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of `bytes` as 32 lowercase hex digits.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
        let length = bytes.count
        var offset = 0
        while length - offset >= 64 {
            compress(&state, UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 64)]))
            offset += 64
        }
        // The tail, the 0x80 marker and the length in bits make one or two final blocks.
        var tail = [UInt8](repeating: 0, count: length - offset + 9 <= 64 ? 64 : 128)
        for index in 0..<(length - offset) { tail[index] = bytes[offset + index] }
        tail[length - offset] = 0x80
        let bits = UInt64(length) &* 8
        for index in 0..<8 { tail[tail.count - 8 + index] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(index))) }
        tail.withUnsafeBytes { tail in
            compress(&state, UnsafeRawBufferPointer(rebasing: tail[0..<64]))
            if tail.count == 128 { compress(&state, UnsafeRawBufferPointer(rebasing: tail[64..<128])) }
        }
        // The digest is the four words' bytes, least significant first.
        let digest = (state.0.littleEndian, state.1.littleEndian, state.2.littleEndian, state.3.littleEndian)
        return withUnsafeBytes(of: digest) { digest in
            String(unsafeUninitializedCapacity: 32) { text in
                for (index, byte) in digest.enumerated() {
                    text[index * 2] = hexDigits[Int(byte >> 4)]
                    text[index * 2 + 1] = hexDigits[Int(byte & 0x0F)]
                }
                return 32
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// floor(abs(sin(i + 1)) * 2^32).
    private static let constants: [UInt32] = [
        0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee, 0xf57c_0faf, 0x4787_c62a, 0xa830_4613, 0xfd46_9501,
        0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be, 0x6b90_1122, 0xfd98_7193, 0xa679_438e, 0x49b4_0821,
        0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa, 0xd62f_105d, 0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8,
        0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed, 0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a,
        0xfffa_3942, 0x8771_f681, 0x6d9d_6122, 0xfde5_380c, 0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70,
        0x289b_7ec6, 0xeaa1_27fa, 0xd4ef_3085, 0x0488_1d05, 0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665,
        0xf429_2244, 0x432a_ff97, 0xab94_23a7, 0xfc93_a039, 0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
        0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1, 0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb, 0xeb86_d391,
    ]

    private static func compress(_ state: inout (UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawBufferPointer) {
        func word(_ index: Int) -> UInt32 {
            UInt32(littleEndian: block.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
        }
        var (a, b, c, d) = state
        for round in 0..<64 {
            var f: UInt32
            let g: Int
            switch round {
            case 0..<16:
                f = (b & c) | (~b & d)
                g = round
            case 16..<32:
                f = (d & b) | (~d & c)
                g = (5 &* round &+ 1) & 15
            case 32..<48:
                f = b ^ c ^ d
                g = (3 &* round &+ 5) & 15
            default:
                f = c ^ (b | ~d)
                g = (7 &* round) & 15
            }
            f = f &+ a &+ constants[round] &+ word(g)
            a = d
            d = c
            c = b
            let shift = shifts[round]
            b = b &+ ((f << shift) | (f >> (32 - shift)))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
