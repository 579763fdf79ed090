import Foundation

/// Files of this package's checkout that tests read: the shipped rules and playbooks, fixtures.
public enum Repository {
    /// The package root, found from this file's path (`Tests/Support/Repository.swift`).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// A file of the package, e.g. `deploy/complaint-rules.json`.
    public static func file(_ path: String) -> URL {
        root.appendingPathComponent(path)
    }
}
