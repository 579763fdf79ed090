internal import CLibPQ
import CRMSupport
import Foundation

/// Checks on `CRM_DATABASE_URL` before any connection: libpq reads a malformed or empty string as "the local socket,
/// as the operating system's user", which is never what was meant.
public enum PostgresConnectionString {
    /// What is wrong with `url` in words (never quoting it: it may hold a password), or nil when libpq parses it as a
    /// `postgres://` URI or `key=value` pairs and it names a user.
    public static func problem(in url: String) -> String? {
        let expected = "expected a URL such as postgres://user:password@host:5432/crm"
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return "empty; \(expected)" }
        let isURI = trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://")
        guard isURI || trimmed.contains("=") else { return "not a PostgreSQL URL; \(expected)" }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(trimmed, &error) else {
            if let error { PQfreemem(error) }
            return "libpq cannot parse it; \(expected)"
        }
        defer { PQconninfoFree(options) }
        var user: String?
        var index = 0
        while let keyword = options[index].keyword {
            if String(cString: keyword) == "user", let value = options[index].val {
                user = String(cString: value)
            }
            index += 1
        }
        guard let user, !user.isEmpty else { return "names no user; \(expected)" }
        return nil
    }

    /// `url` with `password` filled in when it carries none (a URL without secrets beside `CRM_DATABASE_PASSWORD` or
    /// its `_FILE`): percent-encoded into a URI, quoted into `key=value` pairs.
    public static func filling(password: String, into url: String) -> String {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        for scheme in ["postgres://", "postgresql://"] where trimmed.hasPrefix(scheme) {
            let rest = trimmed.dropFirst(scheme.count)
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return trimmed }
            let userInfo = rest[..<at]
            guard !userInfo.contains(":") else { return trimmed }
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let encoded = password.addingPercentEncoding(withAllowedCharacters: allowed) ?? password
            return scheme + userInfo + ":" + encoded + rest[at...]
        }
        if trimmed.range(of: #"(^|\s)password\s*="#, options: .regularExpression) != nil { return trimmed }
        let quoted = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return trimmed + " password='\(quoted)'"
    }
}

extension Settings {
    /// `CRM_DATABASE_URL` (or the file `CRM_DATABASE_URL_FILE` names), checked, with `CRM_DATABASE_PASSWORD` (or its
    /// `_FILE`) filled in when the URL carries no password. A malformed URL is a configuration error naming the
    /// variable, never a connection to the local socket.
    public func databaseURL(_ variable: String = "CRM_DATABASE_URL") throws(SettingsError) -> String {
        let url = try required(variable)
        if let problem = PostgresConnectionString.problem(in: url) {
            throw SettingsError(variable: variable, problem: problem)
        }
        guard let password = try optionalSecret("CRM_DATABASE_PASSWORD") else { return url }
        return PostgresConnectionString.filling(password: password, into: url)
    }
}
