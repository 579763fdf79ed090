import CRMSupport
import Foundation

/// Where and how to reach RabbitMQ, parsed from `CRM_AMQP_URL` and its companion variables.
///
/// `CRM_AMQP_URL` may list the brokers of one cluster, comma-separated, with the same account and vhost
/// (`amqp://u:p@rabbit1:5672/crm,amqp://u:p@rabbit2:5672/crm`): a connection opens to the first that answers, and a
/// connection that is lost is opened again starting with the next one (``AMQPConnection/open(_:connectionName:startingAt:)``).
public struct AMQPSettings: Sendable, Equatable {
    /// One broker of the cluster.
    public struct Broker: Sendable, Equatable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    /// The brokers to connect to, in the order they are tried; never empty.
    public var brokers: [Broker]
    /// The first broker's host (the management API defaults to it).
    public var host: String {
        get { brokers[0].host }
        set { brokers[0].host = newValue }
    }
    /// The first broker's port.
    public var port: Int {
        get { brokers[0].port }
        set { brokers[0].port = newValue }
    }
    public var user: String
    public var password: String
    public var virtualHost: String
    /// TLS, chosen by the `amqps://` scheme.
    public var useTLS: Bool
    /// CA bundle for TLS peer verification (`CRM_AMQP_CA_FILE`); the system store when unset
    /// (``systemCAFile``: librabbitmq loads no default trust store of its own).
    public var caFile: String?
    /// Client certificate and key for mutual TLS (`CRM_AMQP_CERT_FILE`, `CRM_AMQP_KEY_FILE`).
    public var certificateFile: String?
    public var keyFile: String?
    /// Heartbeat interval negotiated with the broker (`CRM_AMQP_HEARTBEAT`, default 30s).
    public var heartbeat: Duration
    /// Time allowed to open the socket and log in (`CRM_AMQP_CONNECT_TIMEOUT`, default 10s).
    public var connectTimeout: Duration
    /// Declare consuming queues as quorum queues (`CRM_AMQP_QUORUM_QUEUES`, default false).
    public var quorumQueues: Bool
    /// Longest pause between reconnection attempts (`CRM_AMQP_RECONNECT_MAX`, default 30s).
    public var reconnectMaxDelay: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 5672,
        user: String = "guest",
        password: String = "guest",
        virtualHost: String = "/",
        useTLS: Bool = false,
        caFile: String? = nil,
        certificateFile: String? = nil,
        keyFile: String? = nil,
        heartbeat: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(10),
        quorumQueues: Bool = false,
        reconnectMaxDelay: Duration = .seconds(30)
    ) {
        brokers = [Broker(host: host, port: port)]
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.useTLS = useTLS
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.quorumQueues = quorumQueues
        self.reconnectMaxDelay = reconnectMaxDelay
    }

    /// Parses `amqp[s]://user:password@host:port/vhost`, or several such URLs separated by commas, one per broker of
    /// a cluster, all with the same scheme, account and vhost; the vhost is percent-decoded (`%2F` is `/`). The hosts
    /// of a cluster may also be listed in one URL, as libpq takes them: `amqp://user:password@h1:5672,h2:5672/vhost`.
    public init(url text: String) throws(SettingsError) {
        let urls = Self.splitBrokers(text)
        guard let first = urls.first else {
            throw SettingsError(
                variable: "CRM_AMQP_URL",
                problem: "empty (expected amqp://user:password@host:port/vhost)"
            )
        }
        try self.init(oneURL: first)
        for other in urls.dropFirst() {
            let broker = try AMQPSettings(oneURL: other)
            guard broker.useTLS == useTLS, broker.user == user, broker.password == password,
                broker.virtualHost == virtualHost
            else {
                throw SettingsError(
                    variable: "CRM_AMQP_URL",
                    problem: "the brokers of one cluster need the same scheme, account and vhost"
                )
            }
            guard !brokers.contains(broker.brokers[0]) else {
                throw SettingsError(variable: "CRM_AMQP_URL", problem: "\(broker.brokers[0]) is listed twice")
            }
            brokers += broker.brokers
        }
    }

    /// One URL per broker: a comma-separated list of URLs, or one URL whose authority lists several hosts.
    static func splitBrokers(_ text: String) -> [String] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let isURL = { (part: String) in
            part.lowercased().hasPrefix("amqp://") || part.lowercased().hasPrefix("amqps://")
        }
        guard parts.count > 1, !parts.dropFirst().allSatisfy(isURL),
            let schemeEnd = text.range(of: "://")
        else { return parts }
        // scheme://[userinfo@]host1[:port1],host2[:port2],.../vhost
        let afterScheme = text[schemeEnd.upperBound...]
        let pathStart = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<pathStart]
        let userEnd = authority.lastIndex(of: "@")
        let userInfo = userEnd.map { String(authority[...$0]) } ?? ""
        let hosts = userEnd.map { authority[authority.index(after: $0)...] } ?? authority
        let prefix = text[..<schemeEnd.upperBound] + userInfo
        return hosts.split(separator: ",").map {
            prefix + $0.trimmingCharacters(in: .whitespaces) + afterScheme[pathStart...]
        }
    }

    private init(oneURL text: String) throws(SettingsError) {
        let variable = "CRM_AMQP_URL"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw SettingsError(
                variable: variable,
                problem: "not a URL (expected amqp://user:password@host:port/vhost)"
            )
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw SettingsError(variable: variable, problem: "scheme must be amqp or amqps, got \"\(scheme)\"")
        }
        self.init()
        useTLS = scheme == "amqps"
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? (useTLS ? 5671 : 5672)
        guard (1...65535).contains(port) else {
            throw SettingsError(variable: variable, problem: "port must be from 1 to 65535")
        }
        if let user = components.user { self.user = user.removingPercentEncoding ?? user }
        if let password = components.password { self.password = password.removingPercentEncoding ?? password }
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            virtualHost = "/"
        } else {
            let raw = String(path.dropFirst())
            virtualHost = raw.removingPercentEncoding ?? raw
        }
    }

    /// Reads `CRM_AMQP_URL` (required) and the optional companions from the settings.
    public static func from(_ settings: Settings, urlVariable: String = "CRM_AMQP_URL") throws(SettingsError) -> Self {
        let url = try settings.required(urlVariable)
        var result: AMQPSettings
        do {
            result = try AMQPSettings(url: url)
        } catch {
            throw SettingsError(variable: urlVariable, problem: error.problem)
        }
        // A URL without a password takes CRM_AMQP_PASSWORD (or the file CRM_AMQP_PASSWORD_FILE names: a secret).
        let first = url.split(separator: ",").first.map(String.init) ?? url
        if let password = try settings.optionalSecret("CRM_AMQP_PASSWORD"),
            URLComponents(string: first.trimmingCharacters(in: .whitespaces))?.password == nil
        {
            result.password = password
        }
        result.caFile = settings.string("CRM_AMQP_CA_FILE")
        result.certificateFile = settings.string("CRM_AMQP_CERT_FILE")
        result.keyFile = settings.string("CRM_AMQP_KEY_FILE")
        // TLS files with a plain URL, or half a client certificate, are mistakes that would otherwise pass silently.
        for (variable, value) in [
            ("CRM_AMQP_CA_FILE", result.caFile), ("CRM_AMQP_CERT_FILE", result.certificateFile),
            ("CRM_AMQP_KEY_FILE", result.keyFile),
        ] where value != nil && !result.useTLS {
            throw SettingsError(variable: variable, problem: "set, but \(urlVariable) is not amqps:// (TLS is off)")
        }
        if (result.certificateFile == nil) != (result.keyFile == nil) {
            throw SettingsError(
                variable: result.keyFile == nil ? "CRM_AMQP_KEY_FILE" : "CRM_AMQP_CERT_FILE",
                problem: "a client certificate needs both CRM_AMQP_CERT_FILE and CRM_AMQP_KEY_FILE"
            )
        }
        result.heartbeat = try settings.duration("CRM_AMQP_HEARTBEAT", default: .seconds(30))
        result.connectTimeout = try settings.duration("CRM_AMQP_CONNECT_TIMEOUT", default: .seconds(10))
        result.quorumQueues = try settings.bool("CRM_AMQP_QUORUM_QUEUES", default: false)
        result.reconnectMaxDelay = try settings.duration("CRM_AMQP_RECONNECT_MAX", default: .seconds(30))
        return result
    }

    /// The operating system's CA bundle, where Debian, Alpine and Red Hat keep it; nil when none exists.
    public static let systemCAFile: String? = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem", "/etc/pki/tls/certs/ca-bundle.crt",
    ].first { FileManager.default.isReadableFile(atPath: $0) }

    /// The CA bundle TLS verifies the broker against: `caFile`, else the system's.
    public var trustedCAFile: String? { caFile ?? Self.systemCAFile }

    /// The URL without its password, safe to log (every broker, comma-separated).
    public var redacted: String {
        brokers.map { redacted($0) }.joined(separator: ",")
    }

    /// One broker's URL without the password.
    public func redacted(_ broker: Broker) -> String {
        "\(useTLS ? "amqps" : "amqp")://\(user)@\(broker.host):\(broker.port)/\(virtualHost == "/" ? "%2F" : virtualHost)"
    }
}
