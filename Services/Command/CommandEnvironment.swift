import CRMAMQP
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Synchronization

/// Connections the subcommands need, from the same environment variables as the services.
struct CommandEnvironment {
    let settings = Settings()
    let logger: Logger = {
        var logger = Logger(label: "crm")
        logger.logLevel = .warning
        return logger
    }()

    func amqp() throws -> AMQPSettings {
        do {
            return try AMQPSettings.from(settings)
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
    }

    func databaseURL() throws -> String {
        do {
            return try settings.databaseURL()
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
    }

    func pool() throws -> PostgresPool {
        PostgresPool(url: try databaseURL(), size: 1, applicationName: "crm", logger: logger)
    }
}

/// A one-line progress bar on standard error, redrawn in place at most ten times a second (and at the end).
final class ProgressBar: Sendable {
    let total: Int
    let label: String
    private let started = ContinuousClock.now
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    /// Frames are drawn only when standard error is a terminal: a file or a pipe gets no `\r` frames.
    static let drawsFrames = isatty(STDERR_FILENO) != 0

    func update(_ done: Int) {
        guard Self.drawsFrames else { return }
        let now = ContinuousClock.now
        let due = lastDrawn.withLock { last in
            guard done >= total || last.map({ now - $0 >= .milliseconds(100) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let width = 30
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let filled = Int(fraction * Double(width))
        let seconds = max((now - started).seconds, 0.001)
        let rate = Int(Double(done) / seconds)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total) \(Int(fraction * 100))% \(rate)/s"
        FileHandle.standardError.write(Data(line.utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
