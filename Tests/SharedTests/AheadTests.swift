import CRMSupport
import Dispatch
import Foundation
import Testing

/// Work started on a thread of its own and collected later.
@Suite struct AheadTests {
    struct Refused: Error {}

    @Test func theWorkRunsWhileTheCallerWaitsOnSomethingElse() throws {
        // The work cannot finish before the caller lets it: it runs on another thread, not in value().
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let ahead = Ahead { () -> Int in
            started.signal()
            release.wait()
            return 42
        }
        #expect(started.wait(timeout: .now() + 10) == .success)
        release.signal()
        #expect(try ahead.value() == 42)
        #expect(try ahead.value() == 42)
    }

    @Test func anErrorOfTheWorkIsThrownByValue() {
        let ahead = Ahead { () throws -> Int in throw Refused() }
        #expect(throws: Refused.self) { try ahead.value() }
    }
}
