extension CustomerQuery {
    /// The default page size of `GET /customers`.
    public static let defaultPageSize = 100
    /// The largest page `GET /customers` serves.
    public static let maximumPageSize = 1000

    /// A query from query-string parameters: the filters of ``CustomerFilter`` by their names, `sort`
    /// (`FIELD[:asc|:desc]`), `limit` and `after` (a cursor from `next`). Unknown or repeated parameters are refused:
    /// a misspelt filter would otherwise silently select everyone.
    ///
    /// With `pageLimit` (a page of JSON) `limit` is 1 to `pageLimit`, default ``defaultPageSize``; without it (the
    /// whole selection as CSV) `limit` is optional and unbounded.
    public init(parameters: [(name: String, value: String)], pageLimit: Int?) throws(CustomerSelectionError) {
        var filter = CustomerFilter()
        var sort = CustomerSort.byCustomerID
        var limit = pageLimit.map { _ in Self.defaultPageSize }
        var after: String?
        var seen: Set<String> = []
        for (name, value) in parameters {
            guard seen.insert(name).inserted else {
                throw CustomerSelectionError(parameter: name, "given more than once")
            }
            switch name {
            case "sort": sort = try CustomerSort(parsing: value)
            case "after": after = value
            case "limit":
                let most = pageLimit ?? Int.max
                guard let number = Int(value), number >= 1, number <= most else {
                    throw CustomerSelectionError(
                        parameter: "limit",
                        pageLimit.map { "'\(value)' is not a whole number from 1 to \($0)" }
                            ?? "'\(value)' is not a whole number ≥ 1"
                    )
                }
                limit = number
            default:
                guard CustomerFilter.parameterNames.contains(name) else {
                    throw CustomerSelectionError(
                        parameter: name,
                        "unknown parameter (filters: \(CustomerFilter.parameterNames.joined(separator: ", ")); "
                            + "sort, limit, after)"
                    )
                }
                try filter.set(name, to: value)
            }
        }
        try filter.validate()
        self.init(filter: filter, sort: sort, limit: limit)
        if let after { self.after = try CustomerCursor(decoding: after, sort: sort) }
    }
}
