import Testing

@testable import CRMPostgres

/// Reading the fields of a `COPY ... TO STDOUT` text line, arrays included.
@Suite struct CopyLineTests {
    /// Reads `line` (tab-separated fields) with `body`.
    static func read<T>(_ line: String, _ body: (inout CopyLine) throws -> T) rethrows -> T {
        let bytes = Array(line.utf8)
        return try bytes.withUnsafeBytes { buffer in
            var copyLine = CopyLine(buffer)
            return try body(&copyLine)
        }
    }

    @Test func arraysOfIntegersAndNumbersAreAppended() throws {
        var days: [Int] = [7]
        var values: [Double] = []
        let last = try Self.read("x\t{20089,20100,-3}\t{12.5,1e+21,-0.25,3}\tt") { line in
            _ = try line.text()
            try line.integers(into: &days)
            try line.doubles(into: &values)
            return line.optionalBool()
        }
        #expect(days == [7, 20089, 20100, -3])
        #expect(values == [12.5, 1e21, -0.25, 3])
        #expect(last == true)
    }

    @Test func emptyAndNullArraysAddNothingAndTheNextFieldFollows() throws {
        var days: [Int] = []
        var values: [Double] = []
        let next = try Self.read("{}\t\\N\t{5}\tend") { line in
            try line.integers(into: &days)
            try line.doubles(into: &values)
            try line.integers(into: &days)
            return try line.text()
        }
        #expect(days == [5])
        #expect(values.isEmpty)
        #expect(next == "end")
    }

    @Test(arguments: ["12", "{1,x}", "{1", "{1.5}"])
    func aFieldThatIsNoArrayOfIntegersIsAnError(_ field: String) {
        var days: [Int] = []
        #expect(throws: PostgresError.self) {
            try Self.read(field) { line in try line.integers(into: &days) }
        }
    }
}
