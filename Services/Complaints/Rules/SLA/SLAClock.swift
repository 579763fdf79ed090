import CRMContract
import Foundation

/// The SLA clocks of one complaint: a state machine fed with its status events.
///
/// `received → acknowledged → resolved → reopened → resolved ...`. Acknowledging stops the first-response
/// clock; resolving stops both (resolving is also a response); reopening restarts the resolution clock,
/// so time spent resolved does not count. Events that do not fit the state (a second acknowledgement, a
/// reopen of an open complaint) are ignored and reported, since desks resend and messages are redelivered.
public struct SLAClock: Hashable, Sendable {
    /// Where the complaint stands.
    public enum State: String, Hashable, Sendable {
        /// Received, no response yet: both clocks run.
        case awaitingResponse = "awaiting_response"
        /// Responded, not resolved: the resolution clock runs.
        case inProgress = "in_progress"
        /// Resolved: no clock runs.
        case resolved
    }

    /// What `apply` did with an event.
    public enum Transition: Hashable, Sendable {
        /// The event moved the clock from one state to another.
        case applied(from: State, to: State)
        /// The event did not fit the state and changed nothing.
        case ignored(State)
    }

    /// When the complaint was received: both clocks start here.
    public let receivedAt: Date
    /// The current state.
    public private(set) var state: State
    /// When the first-response clock stopped, if it has.
    public private(set) var respondedAt: Date?
    /// The periods the resolution clock ran; only the last may be open (`end == nil`).
    public private(set) var resolutionPeriods: [Period]
    /// The latest instant applied; earlier events are moved up to it so periods never run backwards.
    private var lastChangeAt: Date

    /// A period a clock ran, from `start` to `end`, or still running when `end` is `nil`.
    public struct Period: Hashable, Sendable {
        /// When the clock started or resumed.
        public var start: Date
        /// When it stopped; `nil` while running.
        public var end: Date?

        /// Creates a period.
        public init(start: Date, end: Date?) {
            self.start = start
            self.end = end
        }
    }

    /// A clock just started, at `receivedAt`.
    public init(receivedAt: Date) {
        self.receivedAt = receivedAt
        self.state = .awaitingResponse
        self.resolutionPeriods = [Period(start: receivedAt, end: nil)]
        self.lastChangeAt = receivedAt
    }

    /// The clock after a history of status events, applied in time order whatever order they arrived in.
    ///
    /// Events at the same instant keep the order given.
    public init(receivedAt: Date, history: [(status: ComplaintStatus, at: Date)]) {
        self.init(receivedAt: receivedAt)
        for event in history.enumerated().sorted(by: { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }) {
            apply(event.element.status, at: event.element.at)
        }
    }

    /// Applies one status event. An event dated before the last one applied counts as happening then.
    @discardableResult
    public mutating func apply(_ status: ComplaintStatus, at date: Date) -> Transition {
        let at = max(date, lastChangeAt)
        let from = state
        switch (status, state) {
        case (.acknowledged, .awaitingResponse):
            respondedAt = at
            state = .inProgress
        case (.resolved, .awaitingResponse), (.resolved, .inProgress):
            respondedAt = respondedAt ?? at
            resolutionPeriods[resolutionPeriods.count - 1].end = at
            state = .resolved
        case (.reopened, .resolved):
            resolutionPeriods.append(Period(start: at, end: nil))
            state = .inProgress
        default:
            return .ignored(state)
        }
        lastChangeAt = at
        return .applied(from: from, to: state)
    }

    /// Whether a target's clock is running now.
    public func isRunning(_ target: SLATarget) -> Bool {
        switch target {
        case .firstResponse: respondedAt == nil
        case .resolution: state != .resolved
        }
    }

    /// The periods a target's clock ran or runs.
    public func periods(of target: SLATarget) -> [Period] {
        switch target {
        case .firstResponse: [Period(start: receivedAt, end: respondedAt)]
        case .resolution: resolutionPeriods
        }
    }

    /// The instant a target's clock reaches `elapsed` of working time, or `nil` if it stopped before.
    ///
    /// A running clock is assumed to keep running, so the answer may lie in the future.
    public func instant(whenElapsed elapsed: TimeInterval, of target: SLATarget, in time: WorkingTime) -> Date? {
        instants(whenElapsed: [elapsed], of: target, in: time)[0]
    }

    /// `instant(whenElapsed:of:in:)` for several amounts at once, in one walk over the working time.
    ///
    /// The sweeper asks for the warning point and every breach; with business hours each walk costs
    /// calendar work per day, so it is done once. Answers come in the order of `amounts`.
    func instants(whenElapsed amounts: [TimeInterval], of target: SLATarget, in time: WorkingTime) -> [Date?] {
        let order = amounts.indices.sorted { amounts[$0] < amounts[$1] }
        var answers = [Date?](repeating: nil, count: amounts.count)
        var next = order.startIndex
        var used: TimeInterval = 0
        for period in periods(of: target) {
            for interval in time.intervals(from: period.start) {
                guard next < order.endIndex else { return answers }
                if let stop = period.end, interval.start >= stop { break }
                let length = min(interval.end, period.end ?? interval.end).timeIntervalSince(interval.start)
                while next < order.endIndex, amounts[order[next]] - used <= length {
                    answers[order[next]] = interval.start.addingTimeInterval(max(amounts[order[next]] - used, 0))
                    next += 1
                }
                used += length
            }
        }
        return answers
    }
}
