import Foundation
import TestSupport
import Testing

@testable import CRMPostgres
@testable import CRMSchema
@testable import CRMSupport

@Suite("PostgreSQL")
struct PostgresTests {
    @Test func roundTripsTypedValuesThroughParameters() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let date = Date(timeIntervalSince1970: 1_763_600_100.123456)
            let rows = try await environment.pool.query(
                "SELECT $1::text, $2::bigint, $3::numeric, $4::timestamptz, $5::boolean, $6::text, $7::double precision",
                ["O'Reilly; DROP TABLE x", 42, Decimal(string: "129.9000")!, date, true, nil, 0.25]
            )
            let row = try #require(rows.first)
            #expect(try row.decode(0, as: String.self) == "O'Reilly; DROP TABLE x")
            #expect(try row.decode(1, as: Int.self) == 42)
            #expect(try row.decode(2, as: Decimal.self) == Decimal(string: "129.9")!)
            let decoded = try row.decode(3, as: Date.self)
            #expect(abs(decoded.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_002)
            #expect(try row.decode(4, as: Bool.self))
            #expect(try row.decodeIfPresent(5, as: String.self) == nil)
            #expect(try row.decode(6, as: Double.self) == 0.25)
        }
    }

    @Test func arraysBindForSetWiseWrites() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            try await environment.pool.execute("CREATE TABLE t (k text PRIMARY KEY, v numeric)")
            let keys = ["a", "b\"quoted\\", "c,d", "{e}"]
            let values: [Decimal?] = [1, 2.5, nil, 4]
            let inserted = try await environment.pool.execute(
                "INSERT INTO t SELECT * FROM unnest($1::text[], $2::numeric[])",
                [keys, values]
            )
            #expect(inserted == 4)
            let rows = try await environment.pool.query("SELECT k, v FROM t ORDER BY k")
            #expect(try rows.map { try $0.decode(0, as: String.self) } == keys.sorted())
            #expect(try rows.compactMap { try $0.decodeIfPresent(1, as: Decimal.self) }.count == 3)
        }
    }

    /// Every element type a batch binds as bytes comes back from the server as it went in: integers at their limits,
    /// timestamps to the microsecond, NULL elements, quotes, backslashes and multi-byte text.
    @Test func arrayElementsRoundTripThroughTheServer() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let integers: [Int] = [0, -1, 7, 10, 99, 100, Int(Int32.max), Int.max, Int.min + 1]
            let dates = [0, 1_763_600_100.123456, 951_782_400.999_999, -86_400.5, 253_402_300_799].map(
                Date.init(timeIntervalSince1970:)
            )
            let texts: [String?] = ["plain", nil, "quote \" and \\ back", "NULL", "", "Zoë — 東京 🙂", "{a,b}"]
            let rows = try await environment.pool.query(
                """
                SELECT (SELECT array_agg(x::text ORDER BY o) FROM unnest($1::bigint[]) WITH ORDINALITY AS u(x, o)),
                       (SELECT array_agg(to_char(x AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') ORDER BY o)
                        FROM unnest($2::timestamptz[]) WITH ORDINALITY AS u(x, o)),
                       (SELECT count(*) FROM unnest($3::text[]) AS u(x) WHERE x IS NULL),
                       (SELECT string_agg(coalesce(x, '<null>'), '|' ORDER BY o) FROM unnest($3::text[]) WITH ORDINALITY AS u(x, o)),
                       $4::boolean[]::text, $5::int[]::text
                """,
                [integers, dates, texts, [true, false], [Int32.min, Int32(5)]]
            )
            let row = try #require(rows.first)
            #expect(try row.decode(0, as: String.self) == "{" + integers.map(String.init).joined(separator: ",") + "}")
            #expect(
                try row.decode(1, as: String.self) == "{"
                    + dates.map { String(UTCDateTime.format($0).dropLast()) }.joined(separator: ",") + "}"
            )
            #expect(try row.decode(2, as: Int.self) == 1)
            #expect(try row.decode(3, as: String.self) == texts.map { $0 ?? "<null>" }.joined(separator: "|"))
            #expect(try row.decode(4, as: String.self) == "{t,f}")
            #expect(try row.decode(5, as: String.self) == "{-2147483648,5}")
        }
    }

    @Test func aParameterHoldingNULIsRefusedBeforeItIsSent() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            await #expect(throws: PostgresError.self) {
                _ = try await environment.pool.query("SELECT $1::text[]", [["fine", "bad\u{0}byte"]])
            }
            // The connection is still good.
            let after = try await environment.pool.query("SELECT $1::text", ["after"])
            #expect(try after[0].decode(0, as: String.self) == "after")
        }
    }

    @Test func copyWritesRowsWithSpecialCharacters() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            try await environment.pool.execute("CREATE TABLE c (id bigint, note text)")
            let rows: [[(any PostgresEncodable)?]] = (0..<5000).map { [Int64($0), $0 == 7 ? nil : "line\t\($0)\n\\"] }
            let count = try await environment.pool.withConnection {
                try await $0.copy(into: "c", columns: ["id", "note"], rows: rows)
            }
            #expect(count == 5000)
            let check = try await environment.pool.query("SELECT note FROM c WHERE id = 3 OR id = 7 ORDER BY id")
            #expect(check[0][0] == "line\t3\n\\")
            #expect(check[1][0] == nil)
        }
    }

    @Test func binaryCopyWritesEveryFieldTypeAndNull() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            try await environment.pool.execute(
                "CREATE TABLE b (id integer, small smallint, figure float8, flag boolean, note text)"
            )
            // Enough rows to cross the 64 KiB the writer sends at a time, with values text COPY would have to escape.
            let figures: [Double] = [0, -0.1, 1e-300, 123_456_789_012.345_6, .pi, -.infinity, .nan]
            let count = try await environment.pool.withConnection { connection in
                try await connection.copyBinary(
                    into: "b",
                    columns: ["id", "small", "figure", "flag", "note"],
                    rows: 0..<5000
                ) { index, row in
                    row.int32(index == 3 ? nil : -index)
                    row.int16(index % 7 == 0 ? nil : -(index % 300))
                    row.float8(figures[index % figures.count])
                    row.bool(index % 3 == 0 ? nil : index % 3 == 1)
                    row.text(index == 7 ? nil : "line\t\(index)\n\\ é ✓")
                }
            }
            #expect(count == 5000)
            let rows = try await environment.pool.query("SELECT * FROM b WHERE id > -7 OR id IS NULL ORDER BY id DESC")
            #expect(rows.count == 7)
            for (position, row) in rows.enumerated() {
                let index = [3, 0, 1, 2, 4, 5, 6][position]
                #expect(try row.decodeIfPresent(0, as: Int.self) == (index == 3 ? nil : -index))
                #expect(try row.decodeIfPresent(1, as: Int.self) == (index % 7 == 0 ? nil : -(index % 300)))
                let figure = figures[index % figures.count]
                let stored = try row.decodeIfPresent(2, as: Double.self)
                #expect(stored == (figure.isFinite ? figure : nil))
                #expect(try row.decodeIfPresent(3, as: Bool.self) == (index % 3 == 0 ? nil : index % 3 == 1))
                #expect(try row.decodeIfPresent(4, as: String.self) == "line\t\(index)\n\\ é ✓")
            }
            let last = try await environment.pool.query("SELECT note, small FROM b WHERE id = -4999 OR id = -7")
            #expect(last.count == 2)
            #expect(try last.contains { try $0.decodeIfPresent(0, as: String.self) == nil })
            // A field of the wrong width is the server's error, and the connection stays usable.
            await #expect(throws: PostgresError.self) {
                try await environment.pool.withConnection { connection in
                    try await connection.copyBinary(into: "b", columns: ["id"], rows: [1]) { _, row in row.int16(1) }
                }
            }
            #expect(try await environment.pool.query("SELECT count(*) FROM b")[0].decode(0, as: Int.self) == 5000)
        }
    }

    @Test func binaryNumericsAreRoundedAsTheServerRoundsTheDoublesText() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            try await environment.pool.execute("CREATE TABLE m (i integer, d integer, x float8, n numeric)")
            // Halfway points of every scale in decimal (which a double misses by a little either way), the extremes of
            // a double, and random figures of every magnitude money takes.
            var figures: [Double] = [
                0, -0.0, 0.5, -0.5, 2.675, 1.005, 0.125, 0.000_05, 1.000_05, -1.000_05, 0.000_049_999_999_999_999_99,
                1e15 + 0.5, 4_503_599_627_370_496.5, 1e20, -1e20, 1e-20, 5e-324, .greatestFiniteMagnitude,
                -.greatestFiniteMagnitude, 123_456_789.987_65, 9_999.999_95, -9_999.999_95, 0.999_95, .nan, .infinity,
            ]
            var generator = SystemRandomNumberGenerator()
            for decimals in 0...4 {
                for unit in 0..<400 {
                    let half = (Double(unit) + 0.5) / pow(10, Double(decimals))
                    figures += [half, -half, half * 1_000_003]
                }
            }
            for _ in 0..<20_000 {
                let magnitude = Double.random(in: -6...12, using: &generator)
                figures.append(Double.random(in: -1...1, using: &generator) * pow(10, magnitude))
            }
            try await environment.pool.withConnection { connection in
                try await connection.copyBinary(into: "m", columns: ["i", "d", "x", "n"], rows: figures.indices) {
                    index,
                    row in
                    row.int32(index)
                    row.int32(index % 5)
                    row.float8(figures[index])
                    row.numeric(figures[index], decimals: index % 5)
                }
            }
            let differing = try await environment.pool.query(
                """
                SELECT i, x::text, n::text, round(x::text::numeric, d)::text FROM m
                WHERE n::text IS DISTINCT FROM round(x::text::numeric, d)::text ORDER BY i LIMIT 5
                """
            ).map { row in try (1...3).map { try row.decodeIfPresent($0, as: String.self) ?? "NULL" } }
            #expect(differing.isEmpty, "\(differing)")
            let stored = try await environment.pool.query("SELECT count(*), count(n) FROM m")[0]
            #expect(try stored.decode(0, as: Int.self) == figures.count)
            #expect(try stored.decode(1, as: Int.self) == figures.count - 2)  // NaN and infinity are NULL
        }
    }

    @Test func binaryCopyOutReadsEveryFieldTypeAsItsTextDoes() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            // Numerics of every shape: amounts with 4 decimals (the fast path), long and tiny ones (through the text),
            // negatives, zero, whole powers of 10,000 (trailing zero digits dropped), and the specials.
            let fixed = [
                "0", "-0.0001", "1234.5678", "-987654321.1234", "99999999999.9999", "10000", "100000000", "0.5",
                "123456789012345678901234567890.123456789", "1e-30", "-7.00000000000000000001", "NaN", "Infinity",
                "-Infinity", "900719925474.0993", "900719925474.0992",
            ]
            let rows = try await environment.pool.transaction { connection in
                do {
                    try connection.execute(
                        """
                        CREATE TEMP TABLE n AS
                        SELECT i, CASE WHEN i <= $2 THEN ($1::text[])[i]::numeric
                                       ELSE round(((random() - 0.5) * 10 ^ (random() * 16))::numeric, (i % 9)) END AS x
                        FROM generate_series(1, 20000) AS i
                        """,
                        [fixed, fixed.count]
                    )
                    var read: [(Int?, Double?, String?, Bool?, Double?, [Int], [Double], Double?)] = []
                    let count = try connection.copyOutBinary(
                        """
                        SELECT i, x, CASE WHEN i % 5 = 0 THEN NULL ELSE 'é\t' || i END, i % 3 = 0,
                               CASE WHEN i % 7 = 0 THEN NULL ELSE i / 3.0::float8 END,
                               CASE WHEN i % 4 = 0 THEN '{}' ELSE ARRAY[i, -i, 0] END,
                               CASE WHEN i % 4 = 0 THEN '{}' ELSE ARRAY[x, -x, 0.25] END,
                               CASE WHEN i = 2 THEN NULL ELSE x END
                        FROM n ORDER BY i
                        """
                    ) { fields in
                        #expect(fields.count == 8)
                        let (index, x, note, flag, third) = (
                            try fields.int32(), try fields.numeric(), try fields.text(), try fields.bool(),
                            try fields.float8()
                        )
                        var days: [Int] = []
                        var values: [Double] = []
                        try fields.int32s(into: &days)
                        try fields.numerics(into: &values)
                        read.append((index, x, note, flag, third, days, values, try fields.numeric()))
                    }
                    #expect(count == 20000)
                    let texts = try connection.query("SELECT x::text FROM n ORDER BY i").map {
                        try $0.decode(0, as: String.self)
                    }
                    return (read, texts)
                }
            }
            let (read, texts) = rows
            #expect(read.count == texts.count)
            var mismatches = 0
            for (row, text) in zip(read, texts) {
                let index = row.0 ?? 0
                // The nearest double, as the text format's reader gets it.
                let expected = Double(text) ?? .nan
                func same(_ value: Double?) -> Bool {
                    guard let value else { return false }
                    return value == expected || (value.isNaN && expected.isNaN)
                }
                if !same(row.1) { mismatches += 1 }
                #expect(row.2 == (index % 5 == 0 ? nil : "é\t\(index)"))
                #expect(row.3 == (index % 3 == 0))
                #expect(row.4 == (index % 7 == 0 ? nil : Double(index) / 3))
                #expect(row.5 == (index % 4 == 0 ? [] : [index, -index, 0]))
                #expect(row.6.count == (index % 4 == 0 ? 0 : 3))
                if index % 4 != 0, row.6.count == 3 {
                    let negated = row.6[1]
                    if !same(row.6[0]) || !(negated == -expected || (negated.isNaN && expected.isNaN))
                        || row.6[2] != 0.25
                    {
                        mismatches += 1
                    }
                }
                #expect(index == 2 ? row.7 == nil : same(row.7))
            }
            #expect(mismatches == 0)
            // A column read as the wrong type is an error naming what was expected, and the connection stays usable.
            await #expect(throws: PostgresError.self) {
                try await environment.pool.withConnection { connection in
                    try await connection.copyOutBinary("SELECT 1::smallint") { fields in _ = try fields.int32() }
                }
            }
            #expect(try await environment.pool.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
        }
    }

    /// A `timestamptz` read in its binary form is the number `date_part('epoch', ...)` gives for it, to the last bit:
    /// microseconds, times before 1970 and far ahead, the infinities, NULL.
    @Test func binaryTimestampsAreTheSecondsDatePartGives() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let rows = try await environment.pool.withConnection { connection in
                var rows: [(time: Double?, epoch: Double?)] = []
                try await connection.copyOutBinary(
                    """
                    SELECT t, date_part('epoch', t)
                    FROM (SELECT unnest(ARRAY['infinity', '-infinity', '1970-01-01 00:00:00+00', '1969-12-31 23:59:59.999999+00',
                                              '2000-01-01 00:00:00.000001+00', '1900-02-28 12:34:56.789+00',
                                              '2999-12-31 23:59:59.999999+00']::timestamptz[])
                          UNION ALL SELECT NULL
                          UNION ALL SELECT now() - random() * interval '60 years' FROM generate_series(1, 5000)) AS x(t)
                    """
                ) { fields in rows.append((try fields.timestamp(), try fields.float8())) }
                return rows
            }
            #expect(rows.count == 7 + 1 + 5000)
            #expect(rows.filter { $0.time != $0.epoch }.isEmpty, "\(rows.filter { $0.time != $0.epoch }.prefix(5))")
            #expect(rows.contains { $0.time == -.infinity } && rows.contains { $0.time == nil })
        }
    }

    @Test func transactionRollsBackWhenTheBodyThrows() async throws {
        struct Abort: Error {}
        try await TestServers.withEnvironment(migrate: false) { environment in
            try await environment.pool.execute("CREATE TABLE r (id int)")
            await #expect(throws: Abort.self) {
                try await environment.pool.transaction { connection in
                    try connection.execute("INSERT INTO r VALUES (1)")
                    throw Abort()
                }
            }
            try await environment.pool.transaction { connection in
                try connection.execute("INSERT INTO r VALUES (2)")
            }
            let rows = try await environment.pool.query("SELECT id FROM r")
            #expect(try rows.map { try $0.decode(0, as: Int.self) } == [2])
        }
    }

    @Test func serverErrorsCarrySQLStateAndNoValues() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            try await environment.pool.execute("CREATE TABLE u (id text PRIMARY KEY)")
            try await environment.pool.execute("INSERT INTO u VALUES ($1)", ["secret-value"])
            do {
                try await environment.pool.execute("INSERT INTO u VALUES ($1)", ["secret-value"])
                Issue.record("expected a unique violation")
            } catch let error as PostgresError {
                #expect(error.sqlState == PostgresError.uniqueViolation)
                #expect(!error.isTransient)
                #expect(!error.description.contains("secret-value"))
            }
        }
    }

    @Test func migrationsApplyOnceEvenConcurrently() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let first = environment.connection(name: "m1")
            let second = environment.connection(name: "m2")
            async let a = Migrator().migrate(first, logger: TestServers.logger)
            async let b = Migrator().migrate(second, logger: TestServers.logger)
            let (appliedA, appliedB) = try await (a, b)
            #expect((appliedA + appliedB).sorted() == Schema.migrations.map(\.version).sorted())
            let again = try await Migrator().migrate(first, logger: TestServers.logger)
            #expect(again.isEmpty)
            let recorded = try await Migrator().appliedVersions(first)
            #expect(recorded.count == Schema.migrations.count)
            await first.close()
            await second.close()
        }
    }

    @Test func aChangedMigrationIsRefused() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let connection = environment.connection(name: "m")
            let original = Migration(version: 900, name: "probe", sql: "CREATE TABLE probe (id int)")
            _ = try await Migrator(migrations: [original]).migrate(connection, logger: TestServers.logger)
            let edited = Migration(version: 900, name: "probe", sql: "CREATE TABLE probe (id bigint)")
            await #expect(throws: PostgresError.self) {
                _ = try await Migrator(migrations: [edited]).migrate(connection, logger: TestServers.logger)
            }
            await connection.close()
        }
    }

    /// A prepared statement runs by name past the point where PostgreSQL switches to a generic plan, with arrays of
    /// any size; it stays prepared across a rolled-back transaction; a statement whose result type a schema change
    /// altered fails once and is prepared afresh; past the connection's limit statements still run, unnamed.
    @Test func preparedStatementsRunByNameAndRecover() async throws {
        try await TestServers.withEnvironment(migrate: false) { environment in
            let connection = environment.connection(name: "prepared")
            try await connection.execute("CREATE TABLE p (k text PRIMARY KEY, v integer)")
            let insert =
                "INSERT INTO p SELECT * FROM unnest($1::text[], $2::integer[]) ON CONFLICT (k) DO NOTHING RETURNING k"
            for round in 0..<12 {
                let keys = (0...round * 7).map { "k\(round)-\($0)" }
                let inserted = try await connection.query(insert, [keys, keys.indices.map { $0 }], prepared: true)
                #expect(inserted.count == keys.count)
            }
            let names = try await connection.query("SELECT name, statement FROM pg_prepared_statements")
            #expect(names.count == 1)
            #expect(try names.first?.decode(1, as: String.self) == insert)

            await #expect(throws: PostgresError.self) {
                try await connection.transaction { connection in
                    _ = try connection.query(insert, [["inside"], [1]], prepared: true)
                    throw PostgresError(.serverError, message: "roll back")
                }
            }
            #expect(
                try await connection.query("SELECT count(*) FROM p WHERE k = 'inside'")[0].decode(0, as: Int.self) == 0
            )
            #expect(try await connection.query(insert, [["after"], [2]], prepared: true).count == 1)

            let select = "SELECT * FROM p WHERE k = $1"
            #expect(try await connection.query(select, ["after"], prepared: true).first?.columns.count == 2)
            try await connection.execute("ALTER TABLE p ADD COLUMN w text")
            await #expect(throws: PostgresError.self) {
                _ = try await connection.query(select, ["after"], prepared: true)
            }
            #expect(try await connection.query(select, ["after"], prepared: true).first?.columns.count == 3)

            for index in 0..<(PGHandle.preparedLimit + 5) {
                let row = try await connection.query("SELECT $1::integer + \(index)", [1], prepared: true)
                #expect(try row[0].decode(0, as: Int.self) == index + 1)
            }
            let prepared = try await connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(
                0,
                as: Int.self
            )
            // The limit, and the statement the schema change left behind.
            #expect(prepared <= PGHandle.preparedLimit + 1)
            await connection.close()
        }
    }

    @Test func timestampsParseInEveryZoneForm() {
        let expected = Date(timeIntervalSince1970: 1_763_605_800)
        for text in [
            "2025-11-20 02:30:00+00", "2025-11-20T10:30:00+08:00", "2025-11-20T02:30:00Z", "2025-11-19T21:30:00-05",
        ] {
            #expect(PostgresTimestamp.parse(text) == expected, "\(text)")
        }
        #expect(PostgresTimestamp.parse("2025-13-01 00:00:00") == nil)
        #expect(PostgresTimestamp.parse(UTCDateTime.format(expected)) == expected)
    }

    @Test func timestampsFormatWithMicrosecondsInUTC() {
        #expect(UTCDateTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(UTCDateTime.format(Date(timeIntervalSince1970: 1_763_605_800.25)) == "2025-11-20T02:30:00.250000Z")
        #expect(UTCDateTime.format(Date(timeIntervalSince1970: 951_782_400.999_999_9)) == "2000-02-29T00:00:01.000000Z")
        #expect(UTCDateTime.format(Date(timeIntervalSince1970: -62_135_596_800)) == "0001-01-01T00:00:00.000000Z")
    }
}
