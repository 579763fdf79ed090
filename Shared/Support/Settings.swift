import Foundation

/// A setting that could not be read, named by its environment variable.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    /// The environment variable, e.g. `CRM_HTTP_PORT`.
    public var variable: String
    /// What is wrong with it, in words; never the value of a secret.
    public var problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable): \(problem)" }
}

/// Typed, validated access to the process environment.
///
/// Every accessor names the variable in its error, so a misconfigured deployment fails at start-up
/// with one line saying which variable to fix.
public struct Settings: Sendable {
    public let values: [String: String]

    /// Reads the given variables, by default the process environment.
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The raw value, or `nil` when unset or blank. A variable that is unset is read from the file that `<variable>_FILE`
    /// names (a Docker or Kubernetes secret), without its final line break; an unreadable file counts as unset here
    /// and is named by ``required(_:)``.
    public func string(_ variable: String) -> String? {
        try? value(of: variable)
    }

    /// The value of `variable`, or of the file `<variable>_FILE` names when it is unset; nil when neither is given.
    private func value(of variable: String) throws(SettingsError) -> String? {
        if let value = values[variable]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        let fileVariable = variable + "_FILE"
        guard !variable.hasSuffix("_FILE"), let path = values[fileVariable]?.trimmingCharacters(in: .whitespaces),
            !path.isEmpty
        else { return nil }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8)
        else {
            throw SettingsError(variable: fileVariable, problem: "cannot read the file \(path)")
        }
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        return text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : text
    }

    /// The value, or the default when unset.
    public func string(_ variable: String, default fallback: String) -> String {
        string(variable) ?? fallback
    }

    /// The value of an optional secret, from the variable or its `_FILE`; an unreadable file is an error.
    public func optionalSecret(_ variable: String) throws(SettingsError) -> String? {
        try value(of: variable)
    }

    /// The value of a variable that must be set.
    public func required(_ variable: String) throws(SettingsError) -> String {
        guard let value = try value(of: variable) else {
            throw SettingsError(variable: variable, problem: "required but not set (nor \(variable)_FILE)")
        }
        return value
    }

    /// An integer within `range`, or the default when unset.
    public func int(
        _ variable: String,
        default fallback: Int,
        in range: ClosedRange<Int> = Int.min...Int.max
    )
        throws(SettingsError) -> Int
    {
        guard let raw = string(variable) else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw SettingsError(
                variable: variable,
                problem: "expected an integer from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\""
            )
        }
        return value
    }

    /// A number within `range`, or the default when unset.
    public func double(
        _ variable: String,
        default fallback: Double,
        in range: ClosedRange<Double>
    )
        throws(SettingsError) -> Double
    {
        guard let raw = string(variable) else { return fallback }
        guard let value = Double(raw), value.isFinite, range.contains(value) else {
            throw SettingsError(
                variable: variable,
                problem: "expected a number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\""
            )
        }
        return value
    }

    /// A boolean (`true`/`false`, `1`/`0`, `yes`/`no`), or the default when unset.
    public func bool(_ variable: String, default fallback: Bool) throws(SettingsError) -> Bool {
        guard let raw = string(variable)?.lowercased() else { return fallback }
        switch raw {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw SettingsError(variable: variable, problem: "expected true or false, got \"\(raw)\"")
        }
    }

    /// A duration written as a number with a unit (`250ms`, `30s`, `5m`, `2h`, `7d`, `26w`), or the default.
    public func duration(_ variable: String, default fallback: Duration) throws(SettingsError) -> Duration {
        guard let raw = string(variable) else { return fallback }
        guard let value = Settings.parseDuration(raw) else {
            throw SettingsError(
                variable: variable,
                problem: "expected a duration such as 250ms, 30s, 5m, 2h or 7d, got \"\(raw)\""
            )
        }
        return value
    }

    /// A value from a fixed set of choices, or the default.
    public func choice<T: RawRepresentable>(_ variable: String, default fallback: T) throws(SettingsError) -> T
    where T.RawValue == String, T: CaseIterable {
        guard let raw = string(variable) else { return fallback }
        guard let value = T(rawValue: raw.lowercased()) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError(variable: variable, problem: "expected one of \(options), got \"\(raw)\"")
        }
        return value
    }

    /// Parses `250ms`, `30s`, `5m`, `2h`, `7d`, `26w`; a bare number means seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            return .milliseconds(Int64((number * scale * 1000).rounded()))
        }
        guard let number = Double(text), number >= 0, number.isFinite else { return nil }
        return .milliseconds(Int64((number * 1000).rounded()))
    }
}
