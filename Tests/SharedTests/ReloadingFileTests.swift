import CRMSupport
import Foundation
import Logging
import Testing

/// An operators' file read at start-up and again when edited: by a caller's check or by its own interval.
@Suite struct ReloadingFileTests {
    struct Unreadable: Error {}

    /// A file in a directory of its own, and a writer that stamps each edit with a modification time of its own.
    static func file() throws -> (URL, (String, Double) throws -> Void) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reloading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("value.txt")
        return (
            file,
            { text, modified in
                try Data(text.utf8).write(to: file)
                try FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSince1970: modified)],
                    ofItemAtPath: file.path
                )
            }
        )
    }

    static func source(_ file: URL, checkInterval: Duration?) throws -> ReloadingFile<Int> {
        try ReloadingFile(
            path: file.path,
            name: "Test value",
            checkInterval: checkInterval,
            logger: Logger(label: "test")
        ) {
            path in
            let text = String(decoding: try ReloadingFile<Int>.contents(of: path) { Unreadable() }, as: UTF8.self)
            guard let value = Int(text) else { throw Unreadable() }
            return value
        }
    }

    @Test("an edit is read when asked; an invalid edit leaves the value in use, and is not read again unchanged")
    func reloadWhenAsked() throws {
        let (file, write) = try Self.file()
        try write("1", 1_000)
        let source = try Self.source(file, checkInterval: nil)
        #expect(source.current == 1)
        #expect(!source.reloadIfChanged())
        try write("2", 2_000)
        #expect(source.current == 1)  // no interval: only an explicit check reads the file
        #expect(source.reloadIfChanged())
        #expect(source.current == 2)
        try write("two", 3_000)
        #expect(!source.reloadIfChanged())
        #expect(source.current == 2)
        #expect(!source.reloadIfChanged())
        #expect(throws: Unreadable.self) { try Self.source(file.appendingPathExtension("missing"), checkInterval: nil) }
    }

    @Test("with an interval, the value in use looks at the file itself, at most once per interval")
    func reloadOnInterval() async throws {
        let (file, write) = try Self.file()
        try write("1", 1_000)
        let source = try Self.source(file, checkInterval: .milliseconds(200))
        try write("2", 2_000)
        #expect(source.current == 1)
        try await Task.sleep(for: .milliseconds(250))
        #expect(source.current == 2)
        try write("3", 3_000)
        #expect(source.current == 2)
    }

    @Test("a fixed value never reads a file")
    func fixed() {
        let source = ReloadingFile(fixed: 7, name: "Test value", logger: Logger(label: "test"))
        #expect(source.current == 7)
        #expect(!source.reloadIfChanged())
        #expect(source.path.isEmpty)
    }
}
