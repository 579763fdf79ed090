import CRMSupport

/// One result row, decoded from PostgreSQL's text format on demand.
public struct PostgresRow: Sendable {
    /// The result's column names, shared by all its rows.
    public let columns: [String]
    let values: ArraySlice<String?>

    /// The raw text of a column, `nil` for SQL NULL.
    public subscript(_ index: Int) -> String? {
        values[values.startIndex + index]
    }

    /// Decodes the column at `index`; NULL in a non-optional type is an error.
    public func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard index < columns.count else {
            throw PostgresError(.decodingFailed, message: "no column \(index) in a row of \(columns.count)")
        }
        guard let text = self[index] else {
            throw PostgresError(.decodingFailed, message: "column \(columns[index]) is NULL")
        }
        return try T(postgresText: text)
    }

    /// Decodes the column at `index`, `nil` for SQL NULL.
    public func decodeIfPresent<T: PostgresDecodable>(
        _ index: Int,
        as type: T.Type = T.self
    ) throws(PostgresError)
        -> T?
    {
        guard index < columns.count, let text = self[index] else { return nil }
        return try T(postgresText: text)
    }

    /// Decodes the column named `name`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        try decode(try index(of: name), as: type)
    }

    /// Decodes the column named `name`, `nil` for SQL NULL.
    public func decodeIfPresent<T: PostgresDecodable>(
        _ name: String,
        as type: T.Type = T.self
    )
        throws(PostgresError) -> T?
    {
        try decodeIfPresent(try index(of: name), as: type)
    }

    private func index(of name: String) throws(PostgresError) -> Int {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError(.decodingFailed, message: "no column named \(name)")
        }
        return index
    }
}
