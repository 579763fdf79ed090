import CRMContract
import Foundation

/// A complaint the alert rules count: its id and when it was received.
public struct ComplaintSignal: Hashable, Sendable, Codable {
    /// The complaint's `complaint_id`; repeats of one id count once.
    public var complaintID: String
    /// The complaint's `received_at`.
    public var receivedAt: Date

    /// Creates a signal.
    public init(complaintID: String, receivedAt: Date) {
        self.complaintID = complaintID
        self.receivedAt = receivedAt
    }
}

/// A fact about a complaint after its receipt that the alert rules weigh once: a rating or a breached target.
public struct ComplaintFact: Hashable, Sendable, Codable {
    /// The complaint's `complaint_id`.
    public var complaintID: String
    /// The rating given (1 to 5), or nil for a breach.
    public var rating: Int?
    /// The target breached, or nil for a rating.
    public var breached: SLATarget?
    /// When it was rated or breached.
    public var at: Date

    /// Creates a fact.
    public init(complaintID: String, rating: Int? = nil, breached: SLATarget? = nil, at: Date) {
        self.complaintID = complaintID
        self.rating = rating
        self.breached = breached
        self.at = at
    }
}

/// Everything one alert evaluation of one customer looks at.
public struct AlertContext: Hashable, Sendable {
    /// The snapshot evaluated last time; nil the first time a customer is evaluated.
    public var previous: ScoreSnapshot?
    /// The snapshot to evaluate now.
    public var current: ScoreSnapshot
    /// The customer's complaints received within at least the repeated-complaints window; order does not matter.
    public var complaints: [ComplaintSignal]
    /// When this customer was last evaluated; complaints received after it are new. Nil the first time.
    public var lastEvaluatedAt: Date?
    /// The complaints not yet weighed in an evaluation, by id; when set, these are the new ones and
    /// `lastEvaluatedAt` is not consulted.
    ///
    /// The service sets it: a complaint's `received_at` is the sender's clock, and a complaint that reaches
    /// this service after an evaluation that came later than its `received_at` would otherwise never count as new.
    public var newComplaintIDs: Set<String>?
    /// The evaluation time: the wall clock, or the as-of time of a replay.
    public var now: Date
    /// Ratings and breaches not yet weighed in an evaluation.
    public var newComplaintFacts: [ComplaintFact] = []

    /// Creates a context.
    public init(
        previous: ScoreSnapshot?,
        current: ScoreSnapshot,
        complaints: [ComplaintSignal] = [],
        lastEvaluatedAt: Date? = nil,
        newComplaintIDs: Set<String>? = nil,
        now: Date
    ) {
        self.previous = previous
        self.current = current
        self.complaints = complaints
        self.lastEvaluatedAt = lastEvaluatedAt
        self.newComplaintIDs = newComplaintIDs
        self.now = now
    }

    /// The better of the previous and current tier.
    ///
    /// Eligibility and the playbook use it: the value that is slipping away is the value we want
    /// back, so a gold customer just downgraded to bronze is still treated as gold this once.
    public var standingTier: ValueTier { max(previous?.tier ?? current.tier, current.tier) }
}
