import CRMSupport

/// The console's own settings, from the environment.
public struct ConsoleConfiguration: Sendable {
    /// A session unused this long ends (`CRM_CONSOLE_SESSION_IDLE`, default 30m): the next request signs in again.
    public var sessionIdle: Duration
    /// A session ends this long after sign-in however busy (`CRM_CONSOLE_SESSION_MAX`, default 12h).
    public var sessionMaximum: Duration
    /// When the session cookie is marked `Secure` (`CRM_CONSOLE_SECURE_COOKIES`).
    public var secureCookies: SecureCookies
    /// Failed sign-ins allowed per user name within ``loginWindow`` before further tries are refused
    /// (`CRM_CONSOLE_LOGIN_USER_LIMIT`, default 5).
    public var loginUserLimit: Int
    /// Failed sign-ins allowed per client address within ``loginWindow`` (`CRM_CONSOLE_LOGIN_ADDRESS_LIMIT`,
    /// default 20).
    public var loginAddressLimit: Int
    /// The window of both limits (`CRM_CONSOLE_LOGIN_WINDOW`, default 15m).
    public var loginWindow: Duration
    /// Trust `X-Forwarded-For` and `X-Forwarded-Proto` from the proxy in front (`CRM_CONSOLE_TRUST_PROXY`,
    /// default false): the client address the login limit counts, and whether the request came over TLS.
    public var trustProxy: Bool
    /// Rows a page of the customer browser shows (`CRM_CONSOLE_PAGE_SIZE`, default 50, at most 1000).
    public var pageSize: Int

    /// `auto` (default): `Secure` when the request came over TLS, as a trusted proxy's `X-Forwarded-Proto: https`
    /// says; `true`: always (the console is only ever reached over TLS); `false`: never (plain HTTP on a trusted
    /// network, or local use).
    public enum SecureCookies: String, Sendable, CaseIterable {
        case auto
        case always = "true"
        case never = "false"
    }

    public init(_ settings: Settings) throws(SettingsError) {
        sessionIdle = try settings.duration("CRM_CONSOLE_SESSION_IDLE", default: .seconds(1800))
        sessionMaximum = try settings.duration("CRM_CONSOLE_SESSION_MAX", default: .seconds(12 * 3600))
        secureCookies = try settings.choice("CRM_CONSOLE_SECURE_COOKIES", default: SecureCookies.auto)
        loginUserLimit = try settings.int("CRM_CONSOLE_LOGIN_USER_LIMIT", default: 5, in: 1...1000)
        loginAddressLimit = try settings.int("CRM_CONSOLE_LOGIN_ADDRESS_LIMIT", default: 20, in: 1...100_000)
        loginWindow = try settings.duration("CRM_CONSOLE_LOGIN_WINDOW", default: .seconds(900))
        trustProxy = try settings.bool("CRM_CONSOLE_TRUST_PROXY", default: false)
        pageSize = try settings.int("CRM_CONSOLE_PAGE_SIZE", default: 50, in: 1...1000)
    }
}
