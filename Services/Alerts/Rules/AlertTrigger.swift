import Foundation

/// Decides which retention reasons fire for one customer, comparing the previous snapshot with the current.
///
/// Every trigger fires on a change, never on a standing condition, so an alert a desk has resolved
/// is not raised again tomorrow by the same facts. A first evaluation (no previous snapshot)
/// counts every current condition as new.
///
/// | reason                        | fires when (settings in backticks)                              |
/// |-------------------------------|-----------------------------------------------------------------|
/// | `lifecycle_termination`       | stage is termination and was not                                |
/// | `lifecycle_decline`           | stage is decline and was not                                    |
/// | `p_alive_low`                 | p_alive < `pAliveLow` and was not below it                      |
/// | `p_alive_drop`                | previous p_alive − p_alive > `pAliveMaximumDrop`                |
/// | `overdue_purchase`            | overdue (below) and was not                                     |
/// | `tier_downgrade`              | previous tier ≥ `downgradeFromTier` and the tier fell           |
/// | `complaint_valuable_customer` | a new complaint, standing tier ≥ `complaintMinimumTier`         |
/// | `repeated_complaints`         | ≥ `repeatedComplaintsCount` distinct complaints in the last     |
/// |                               | `repeatedComplaintsWindowDays` days, at least one of them new   |
/// | `complaint_unresolved`        | a complaint newly breached its resolution target while open     |
/// | `dissatisfied`                | a new rating ≤ `dissatisfiedMaximumRating` (2) of a complaint   |
///
/// Overdue: days since the last order > `overdueIntervalMultiple` × the own interval, and
/// ≥ `overdueMinimumDays`, with at least `overdueMinimumOrders` orders.
///
/// A complaint is new when received after the last evaluation and not after now; on a first
/// evaluation, within the complaints window. When the context names the new complaints by id
/// (``AlertContext/newComplaintIDs``), those are the new ones. Eligibility is not checked here; see
/// ``RetentionAlertComposer``.
public struct AlertTrigger: Hashable, Sendable {
    /// The settings in use.
    public let settings: AlertSettings

    /// Creates a trigger; validate the settings once at start-up with ``AlertSettings/validate()``.
    public init(settings: AlertSettings = AlertSettings()) {
        self.settings = settings
    }

    /// The reasons that fire, one finding per reason, gravest first.
    public func findings(_ context: AlertContext) -> [AlertFinding] {
        var findings: [AlertFinding] = []
        findings += lifecycleFindings(context)
        findings += pAliveFindings(context)
        findings += overdueFindings(context)
        findings += downgradeFindings(context)
        findings += complaintFindings(context)
        findings += satisfactionFindings(context)
        return findings.sorted { $0.reason < $1.reason }
    }

    // MARK: - Score triggers

    private func lifecycleFindings(_ context: AlertContext) -> [AlertFinding] {
        let stage = context.current.stage
        let before = context.previous?.stage
        guard stage != before else { return [] }
        let evidence = AlertEvidence.stageEntered(from: before, to: stage)
        switch stage {
        case .termination: return [AlertFinding(reason: .lifecycleTermination, evidence: evidence)]
        case .decline: return [AlertFinding(reason: .lifecycleDecline, evidence: evidence)]
        case .potential, .development, .growth, .maturity, .recovery: return []
        }
    }

    private func pAliveFindings(_ context: AlertContext) -> [AlertFinding] {
        guard let current = context.current.pAlive else { return [] }
        let before = context.previous?.pAlive
        var findings: [AlertFinding] = []
        let wasLow = before.map { $0 < settings.pAliveLow } ?? false
        if current < settings.pAliveLow, !wasLow {
            findings.append(
                AlertFinding(
                    reason: .pAliveLow,
                    evidence: .pAliveBelow(pAlive: current, previous: before, threshold: settings.pAliveLow)
                )
            )
        }
        // A difference of two rounded numbers: within 1e-9 of the setting counts as on the boundary,
        // so a drop from 0.8 to 0.6 is "0.2", not 0.20000000000000007.
        if let before, before - current > settings.pAliveMaximumDrop + 1e-9 {
            findings.append(
                AlertFinding(
                    reason: .pAliveDrop,
                    evidence: .pAliveDropped(from: before, to: current, maximumDrop: settings.pAliveMaximumDrop)
                )
            )
        }
        return findings
    }

    private func overdueFindings(_ context: AlertContext) -> [AlertFinding] {
        let current = context.current
        guard isOverdue(current), context.previous.map(isOverdue) != true,
            let silence = current.daysSinceLastOrder, let interval = current.expectedIntervalDays
        else { return [] }
        let evidence = AlertEvidence.overdue(
            daysSinceLastOrder: silence,
            expectedIntervalDays: interval,
            multiple: settings.overdueIntervalMultiple
        )
        return [AlertFinding(reason: .overduePurchase, evidence: evidence)]
    }

    /// Overdue under these settings: enough orders, enough silent days, beyond k × the own interval.
    public func isOverdue(_ snapshot: ScoreSnapshot) -> Bool {
        guard snapshot.orderCount >= settings.overdueMinimumOrders,
            let interval = snapshot.expectedIntervalDays, interval > 0,
            let silence = snapshot.daysSinceLastOrder, silence >= settings.overdueMinimumDays
        else { return false }
        return silence > settings.overdueIntervalMultiple * interval
    }

    private func downgradeFindings(_ context: AlertContext) -> [AlertFinding] {
        guard let before = context.previous?.tier, before >= settings.downgradeFromTier,
            context.current.tier < before
        else { return [] }
        return [AlertFinding(reason: .tierDowngrade, evidence: .tierDowngraded(from: before, to: context.current.tier))]
    }

    // MARK: - Complaint triggers

    private func complaintFindings(_ context: AlertContext) -> [AlertFinding] {
        let windowStart = context.now.addingTimeInterval(-settings.repeatedComplaintsWindowDays * 86_400)
        let newSince = context.lastEvaluatedAt ?? windowStart
        let known = context.complaints.filter { $0.receivedAt <= context.now }
        let isNew: (ComplaintSignal) -> Bool =
            context.newComplaintIDs.map { ids in { ids.contains($0.complaintID) } } ?? { $0.receivedAt > newSince }
        let newIDs = uniqueIDsNewestFirst(known.filter(isNew))
        guard !newIDs.isEmpty else { return [] }

        var findings: [AlertFinding] = []
        let tier = context.standingTier
        if tier >= settings.complaintMinimumTier {
            findings.append(
                AlertFinding(
                    reason: .complaintValuableCustomer,
                    evidence: .complaintReceived(complaintIDs: newIDs, tier: tier)
                )
            )
        }
        let inWindow = Set(known.filter { $0.receivedAt > windowStart }.map(\.complaintID)).count
        if inWindow >= settings.repeatedComplaintsCount {
            findings.append(
                AlertFinding(
                    reason: .repeatedComplaints,
                    evidence: .complaintsInWindow(count: inWindow, windowDays: settings.repeatedComplaintsWindowDays)
                )
            )
        }
        return findings
    }

    /// The newest breach of a resolution target, and the lowest new rating (the newest of equals), each once.
    private func satisfactionFindings(_ context: AlertContext) -> [AlertFinding] {
        let facts = context.newComplaintFacts.filter { $0.at <= context.now.addingTimeInterval(86_400) }
        var findings: [AlertFinding] = []
        let breaches = facts.filter { $0.breached == .resolution }.sorted {
            ($0.at, $0.complaintID) > ($1.at, $1.complaintID)
        }
        if let breach = breaches.first {
            findings.append(
                AlertFinding(
                    reason: .complaintUnresolved,
                    evidence: .targetBreached(complaintID: breach.complaintID, target: .resolution)
                )
            )
        }
        let low = facts.compactMap { fact in fact.rating.map { (fact, $0) } }
            .filter { $0.1 <= Self.dissatisfiedMaximumRating }
            .sorted { ($0.1, $1.0.at, $0.0.complaintID) < ($1.1, $0.0.at, $1.0.complaintID) }
        if let (fact, rating) = low.first {
            findings.append(
                AlertFinding(reason: .dissatisfied, evidence: .ratedLow(complaintID: fact.complaintID, rating: rating))
            )
        }
        return findings
    }

    /// The highest rating that counts as dissatisfied: 1 and 2 of 5.
    public static let dissatisfiedMaximumRating = 2

    /// Complaint ids newest first, each once, ties broken by id so evidence is deterministic.
    private func uniqueIDsNewestFirst(_ complaints: [ComplaintSignal]) -> [String] {
        let ordered = complaints.sorted { ($0.receivedAt, $0.complaintID) > ($1.receivedAt, $1.complaintID) }
        var seen = Set<String>()
        return ordered.map(\.complaintID).filter { seen.insert($0).inserted }
    }
}
