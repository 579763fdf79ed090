import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation

/// Errors of the servers and the settings told in plain words for the operator, with the exit code they mean:
/// 2 for configuration, 1 for a failure worth retrying or fixing on the server's side. Never a Swift type's name.
enum PlainErrors {
    static func describe(_ error: any Error) -> (text: String, exitCode: Int32)? {
        switch error {
        case let error as SettingsError:
            return ("configuration error: \(error)", 2)
        case let error as AMQPError:
            return (broker(error), 1)
        case let error as PostgresError:
            return (database(error), 1)
        default:
            return nil
        }
    }

    static func broker(_ error: AMQPError) -> String {
        let reply = error.replyCode.map { " (reply \($0))" } ?? ""
        switch error.code {
        case .connectionFailed:
            return "cannot reach RabbitMQ: nothing answers at CRM_AMQP_URL's address, or not in time"
        case .accessRefused:
            return
                "RabbitMQ refused the login: wrong user or password in CRM_AMQP_URL, or no access to its virtual host"
        case .connectionLost:
            return "the connection to RabbitMQ was lost during \(error.operation); try again"
        case .closedByBroker where error.replyCode == 403:
            return "RabbitMQ refused \(error.operation): this account lacks the permission (reply 403)"
        case .closedByBroker where error.replyCode == 404:
            return "RabbitMQ has no \(error.operation.split(separator: " ").last.map(String.init) ?? "such object")"
                + " (reply 404): run crm migrate"
        case .closedByBroker:
            return "RabbitMQ closed the channel during \(error.operation)\(reply)"
        case .publishNacked, .unroutable, .confirmTimeout:
            return "RabbitMQ did not confirm a message (\(error.code.rawValue))\(reply); nothing was lost, try again"
        case .library:
            return "RabbitMQ client error during \(error.operation): \(error.detail)"
        }
    }

    static func database(_ error: PostgresError) -> String {
        switch error.code {
        case .connectionFailed:
            // libpq's message, with any password already masked; it says which host and why.
            return "cannot connect to PostgreSQL: \(error.message)"
        case .poolTimeout:
            return "PostgreSQL did not give a connection in time; is it overloaded?"
        case .serverError:
            let state = error.sqlState.map { " (SQLSTATE \($0))" } ?? ""
            return "PostgreSQL refused a statement\(state): \(error.message)"
        case .decodingFailed:
            return "unexpected data from PostgreSQL: \(error.message); is the schema migrated (crm migrate)?"
        case .migrationFailed:
            return "migration failed: \(error.message)"
        }
    }
}
