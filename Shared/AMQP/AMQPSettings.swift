import CRMSupport
import Foundation

/// Where and how to reach RabbitMQ, parsed from `CRM_AMQP_URL` and its companion variables.
public struct AMQPSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
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
        self.host = host
        self.port = port
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

    /// Parses `amqp[s]://user:password@host:port/vhost`; the vhost is percent-decoded (`%2F` is `/`).
    public init(url text: String) throws(SettingsError) {
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

    /// The URL without its password, safe to log.
    public var redacted: String {
        "\(useTLS ? "amqps" : "amqp")://\(user)@\(host):\(port)/\(virtualHost == "/" ? "%2F" : virtualHost)"
    }
}
