import CRMContract
import CRMSupport
import Foundation

/// SLA targets per priority and the escalation settings: the `sla` section of the rules.
///
/// Targets count working time: every minute for a desk without business hours, open minutes otherwise.
/// JSON: `{"targets": {"p1": {"first_response_minutes": 15, "resolution_minutes": 240}, ...},
/// "warning_fraction": 0.8, "max_escalation_level": 3}`.
public struct SLAPolicy: Codable, Hashable, Sendable {
    /// The two targets of one priority.
    public struct Targets: Codable, Hashable, Sendable {
        /// Time allowed until the first response. Key `first_response_minutes`.
        public var firstResponse: Duration
        /// Time allowed until resolution. Key `resolution_minutes`.
        public var resolution: Duration

        /// Creates the targets of one priority.
        public init(firstResponse: Duration, resolution: Duration) {
            self.firstResponse = firstResponse
            self.resolution = resolution
        }

        enum CodingKeys: String, CodingKey {
            case firstResponse = "first_response_minutes"
            case resolution = "resolution_minutes"
        }

        /// Decodes whole minutes.
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            firstResponse = .seconds(try container.decode(Int.self, forKey: .firstResponse) * 60)
            resolution = .seconds(try container.decode(Int.self, forKey: .resolution) * 60)
        }

        /// Encodes whole minutes.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(firstResponse.components.seconds / 60, forKey: .firstResponse)
            try container.encode(resolution.components.seconds / 60, forKey: .resolution)
        }

        /// The target for one clock.
        public subscript(target: SLATarget) -> Duration {
            switch target {
            case .firstResponse: firstResponse
            case .resolution: resolution
            }
        }
    }

    /// Targets for each of p1...p4. Key `targets`.
    public var targets: [ComplaintPriority: Targets]
    /// Share of a target after which a warning is due, in (0, 1). Key `warning_fraction`, default 0.8.
    public var warningFraction: Double
    /// The highest `escalation_level` published. Key `max_escalation_level`, default 3.
    public var maxEscalationLevel: Int

    /// Creates a policy.
    public init(targets: [ComplaintPriority: Targets], warningFraction: Double = 0.8, maxEscalationLevel: Int = 3) {
        self.targets = targets
        self.warningFraction = warningFraction
        self.maxEscalationLevel = maxEscalationLevel
    }

    enum CodingKeys: String, CodingKey {
        case targets
        case warningFraction = "warning_fraction"
        case maxEscalationLevel = "max_escalation_level"
    }

    /// Decodes, filling the documented defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targets = try container.decode([ComplaintPriority: Targets].self, forKey: .targets)
        warningFraction = try container.decodeIfPresent(Double.self, forKey: .warningFraction) ?? 0.8
        maxEscalationLevel = try container.decodeIfPresent(Int.self, forKey: .maxEscalationLevel) ?? 3
    }

    /// The targets of a priority; a validated policy has all four, an unvalidated one falls back to `p1`'s or none.
    public func targets(for priority: ComplaintPriority) -> Targets {
        targets[priority] ?? targets[.p1] ?? Targets(firstResponse: .zero, resolution: .zero)
    }

    /// The working time allowed for a target of a priority, in seconds.
    func allowance(_ target: SLATarget, for priority: ComplaintPriority) -> TimeInterval {
        targets(for: priority)[target].seconds
    }

    /// The due times to publish with a complaint (`sla.first_response_due`, `sla.resolution_due`).
    ///
    /// A target whose clock has stopped short of it has no due time; a fresh clock has both.
    public func deadlines(for clock: SLAClock, priority: ComplaintPriority, in time: WorkingTime) -> SLADeadlines {
        SLADeadlines(
            firstResponseDue: clock.instant(
                whenElapsed: allowance(.firstResponse, for: priority),
                of: .firstResponse,
                in: time
            ),
            resolutionDue: clock.instant(whenElapsed: allowance(.resolution, for: priority), of: .resolution, in: time)
        )
    }

    /// Records missing priorities, non-positive targets and settings out of range.
    func check(_ issues: inout ConfigurationIssues) {
        for priority in ComplaintPriority.allCases {
            guard let targets = targets[priority] else {
                issues.add(.invalidValue, at: "sla.targets", "no targets for \(priority.rawValue)")
                continue
            }
            if targets.firstResponse <= .zero || targets.resolution < targets.firstResponse {
                issues.add(
                    .invalidValue,
                    at: "sla.targets.\(priority.rawValue)",
                    "first response must be positive and no longer than resolution"
                )
            }
        }
        if !(warningFraction > 0 && warningFraction < 1) {
            issues.add(.invalidValue, at: "sla.warning_fraction", "must be between 0 and 1, is \(warningFraction)")
        }
        if maxEscalationLevel < 1 {
            issues.add(.invalidValue, at: "sla.max_escalation_level", "must be at least 1, is \(maxEscalationLevel)")
        }
    }
}

/// When a complaint's SLA targets fall due.
public struct SLADeadlines: Hashable, Sendable {
    /// `sla.first_response_due`; `nil` once responded within target.
    public var firstResponseDue: Date?
    /// `sla.resolution_due`; `nil` while resolved within target.
    public var resolutionDue: Date?
}
