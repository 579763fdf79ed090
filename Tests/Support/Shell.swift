import Foundation

/// Runs operator commands (rabbitmqctl, pg_ctlcluster) and the built executables from tests.
public enum Shell {
    /// Runs a shell command to completion; throws when it exits non-zero.
    ///
    /// Spawned and reaped with posix_spawn/waitpid, and its output goes through a file: a daemon the
    /// command starts (pg_ctlcluster restart) inherits the descriptors and would keep a pipe open.
    @discardableResult
    public static func run(_ command: String) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("crm-shell-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let wrapped = "(\(command)) </dev/null >'\(log.path)' 2>&1"
        var pid: pid_t = 0
        let words: [String] = ["/bin/bash", "-c", wrapped]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { word in strdup(word) } + [nil]
        defer { for argument in arguments { free(argument) } }
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, arguments, environ)
        guard spawned == 0 else { throw TestSetupError("cannot spawn `\(command)`: \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            throw TestSetupError("`\(command)` exited \(exitCode): \(text.suffix(500))")
        }
        return text
    }

    /// Where the built executables are (`CRM_TEST_BIN_DIR`, default `.build/debug`).
    public static var binDirectory: URL {
        let path = ProcessInfo.processInfo.environment["CRM_TEST_BIN_DIR"] ?? ".build/debug"
        return URL(fileURLWithPath: path)
    }

    /// Starts one of the project's executables with extra environment variables, in `directory` when given.
    public static func launch(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String],
        directory: URL? = nil
    ) throws
        -> Process
    {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(executable)
        if let directory { process.currentDirectoryURL = directory }
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let log = try serviceLog(for: executable) {
            process.standardOutput = log
            process.standardError = log
            if let level = ProcessInfo.processInfo.environment["CRM_TEST_SERVICE_LOG_LEVEL"] {
                process.environment?["CRM_LOG_LEVEL"] = level
            }
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    /// Where tests keep the logs of what they start (services, broker nodes): `CRM_TEST_SERVICE_LOGS`, for finding out
    /// what a service did in a failing test; nil when unset, and their output is dropped.
    public static var serviceLogFolder: String? {
        ProcessInfo.processInfo.environment["CRM_TEST_SERVICE_LOGS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A new file for a launched service's output in ``serviceLogFolder`` (`CRM_TEST_SERVICE_LOG_LEVEL` sets the
    /// service's log level); nil without that folder.
    static func serviceLog(for executable: String) throws -> FileHandle? {
        guard let folder = serviceLogFolder else { return nil }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stamp = Int(Date().timeIntervalSince1970 * 1000)
        let path = URL(fileURLWithPath: folder).appendingPathComponent(
            "\(executable)-\(stamp)-\(UUID().uuidString.prefix(8)).log"
        )
        _ = FileManager.default.createFile(atPath: path.path, contents: nil)
        return try FileHandle(forWritingTo: path)
    }

    /// Runs one of the project's executables to completion; returns its exit status and standard output.
    public static func execute(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String],
        directory: URL? = nil
    ) throws
        -> (status: Int32, output: String)
    {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("crm-exec-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(executable)
        if let directory { process.currentDirectoryURL = directory }
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// GETs a local URL, returning the status code and body (status 0 when nothing answers).
    public static func get(_ url: String) -> (status: Int, body: String) {
        let result = try? run("curl -s -m 5 -w '\\n%{http_code}' '\(url)'")
        guard let result else { return (0, "") }
        let lines = result.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        return (status, lines.dropLast().joined(separator: "\n"))
    }
}
