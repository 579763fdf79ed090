import CRMContract
import Foundation

/// Everything known about one customer when it is evaluated: what this service saw last, what is new, and the
/// alerts that stand in the way.
struct CustomerCase: Sendable {
    var customerID: String
    /// The figures of this service's last evaluation and when it ran; nil for a customer never evaluated.
    var stored: (figures: ScoredFigures, evaluatedAt: Date)?
    /// The figures of a `customer.scored` event in hand.
    var event: ScoredFigures?
    /// The previous stage and tier the event names, used only for a customer never evaluated.
    var eventPrevious: ScoreSnapshot?
    /// The customer's `customer_scores` row.
    var scored: ScoredFigures?
    /// Complaints received within the repeated-complaints window.
    var complaints: [ComplaintSignal] = []
    /// Complaints not weighed in an evaluation yet.
    var newComplaintIDs: Set<String> = []
    /// Ratings and breached targets not weighed in an evaluation yet.
    var newComplaintFacts: [ComplaintFact] = []
    /// Reasons of this customer's open alerts.
    var openReasons: Set<AlertReason> = []
    /// Reasons of this customer's alerts resolved within the cooldown.
    var coolingReasons: Set<AlertReason> = []
    /// The operators' flags on the customer; any of them means no alert.
    var flags: Set<CustomerFlag> = []
}

/// Why a reason that fired raised no alert.
enum SuppressionCause: String, Sendable, CaseIterable {
    /// An alert for the same customer and reason is still open.
    case open
    /// An alert for the same customer and reason was resolved within the cooldown.
    case cooldown
}

/// An alert decided on, with its published body.
struct PlannedAlert: Sendable {
    var alertID: UUID
    var customerID: String
    var raisedAt: Date
    /// `alerted`, or `control`: stored, never published.
    var group: AlertGroup
    var content: RetentionAlertContent
    var figures: ScoredFigures
    var evidence: [EvidenceRecord]
    var body: Data

    var priority: AlertPriority { content.priority }
    /// The scoring time the alert was evaluated at.
    var asOf: Date { figures.scoredAt }
}

/// What one evaluation concluded.
struct Evaluation: Sendable {
    var customerID: String
    /// The figures evaluated; stored as the next evaluation's previous.
    var current: ScoredFigures
    /// The alert to raise, if any.
    var alert: PlannedAlert?
    /// Reasons that fired but were held back, by cause.
    var suppressed: [SuppressionCause: Int] = [:]
    /// The flag that kept back an alert that was due (the first of the customer's flags in vocabulary order).
    var suppressedBy: CustomerFlag?
    /// True when an alert was due but its figures could not make a valid message (logged, counted, not raised).
    var unpublishable = false
}

/// Decides, for one customer, which figures are current and whether an alert is raised: pure, no I/O.
///
/// - The current figures are the newest of the event's, the `customer_scores` row's and the stored ones, by
///   scoring time; a tie goes to the event, whose figures the alert copies unchanged. Figures no newer than the
///   stored ones are not a change: a redelivered or reordered event never moves a customer backwards, and two
///   replicas (or a sweep and a consumer) seeing the same scoring raise one alert.
/// - Nothing new (no newer figures, no new complaint): no evaluation at all.
/// - Reasons of an open alert, or of one resolved within the cooldown, are held back (``SuppressionCause``).
/// - A flagged customer (`fraud`, `bad_debt`, `opt_out`, `do_not_retain`) gets no alert; the alert that was due is
///   counted under the flag.
/// - The alert's group comes from the stable hash of the customer id (``ControlGroup``); both groups go through the
///   same rules, so they stay comparable.
struct AlertDecider: Sendable {
    let composer: RetentionAlertComposer
    var control = ControlGroup(share: 0)

    func decide(_ customer: CustomerCase, now: Date) -> Evaluation? {
        let newest = [customer.event, customer.scored].compactMap { $0 }.reduce(nil as ScoredFigures?) { best, next in
            guard let best else { return next }
            return next.scoredAt > best.scoredAt ? next : best
        }
        let current: ScoredFigures
        let previous: ScoreSnapshot?
        let advanced: Bool
        if let stored = customer.stored {
            previous = stored.figures.snapshot
            if let newest, newest.scoredAt > stored.figures.scoredAt {
                current = newest
                advanced = true
            } else {
                current = stored.figures
                advanced = false
            }
        } else {
            guard let newest else { return nil }
            previous = customer.eventPrevious
            current = newest
            advanced = true
        }
        guard advanced || !customer.newComplaintIDs.isEmpty || !customer.newComplaintFacts.isEmpty else { return nil }

        var context = AlertContext(
            previous: previous,
            current: current.snapshot,
            complaints: customer.complaints,
            lastEvaluatedAt: customer.stored?.evaluatedAt,
            newComplaintIDs: customer.newComplaintIDs,
            now: now
        )
        context.newComplaintFacts = customer.newComplaintFacts
        var evaluation = Evaluation(customerID: customer.customerID, current: current)
        guard let unfiltered = composer.compose(context) else { return evaluation }
        let blocked = customer.openReasons.union(customer.coolingReasons)
        for reason in unfiltered.reasons where blocked.contains(reason) {
            let cause: SuppressionCause = customer.openReasons.contains(reason) ? .open : .cooldown
            evaluation.suppressed[cause, default: 0] += 1
        }
        guard let content = composer.compose(context, openReasons: blocked) else { return evaluation }
        if let flag = CustomerFlag.allCases.first(where: customer.flags.contains) {
            evaluation.suppressedBy = flag
            return evaluation
        }
        evaluation.alert = plan(
            content,
            customerID: customer.customerID,
            group: control.group(of: customer.customerID),
            figures: current,
            now: now
        )
        evaluation.unpublishable = evaluation.alert == nil
        return evaluation
    }

    /// The alert with its body; nil only if the figures cannot make a valid message (then no alert is raised).
    private func plan(
        _ content: RetentionAlertContent,
        customerID: String,
        group: AlertGroup,
        figures: ScoredFigures,
        now: Date
    )
        -> PlannedAlert?
    {
        let alertID = UUID()
        let evidence = content.findings.map(EvidenceRecord.init)
        guard let id = try? Identifier(alertID.uuidString.lowercased()),
            let customer = try? Identifier(customerID),
            let valueAtRisk = ScoredFigures.money(content.valueAtRisk)
        else { return nil }
        let alert = RetentionAlert(
            alertID: id,
            customerID: customer,
            raisedAt: Timestamp(now),
            priority: content.priority,
            reasons: content.reasons,
            valueAtRisk: valueAtRisk,
            customer: figures.customer,
            suggestedAction: content.suggestedAction,
            asOf: Timestamp(figures.scoredAt)
        )
        guard let body = try? AlertMessage(alert: alert, evidence: evidence).body() else { return nil }
        return PlannedAlert(
            alertID: alertID,
            customerID: customerID,
            raisedAt: Timestamp(now).date,
            group: group,
            content: content,
            figures: figures,
            evidence: evidence,
            body: body
        )
    }
}
