import CRMContract
import Foundation

/// What has been published for a complaint's SLA so far; stored with the complaint and updated from each plan.
public struct EscalationProgress: Hashable, Sendable {
    /// The highest `escalation_level` published; 0 when only routed.
    public var level: Int
    /// The targets a warning has been published for.
    public var warned: Set<SLATarget>

    /// Creates progress; a freshly routed complaint has level 0 and no warnings.
    public init(level: Int = 0, warned: Set<SLATarget> = []) {
        self.level = level
        self.warned = warned
    }
}

/// What the sweeper should publish for one complaint now, and when to look at it again.
public struct EscalationPlan: Hashable, Sendable {
    /// One escalation: the complaint again, with `escalation_level` set to `level`, to `desk.escalations`.
    public struct Escalation: Hashable, Sendable {
        /// The new `escalation_level`, one above the last published.
        public var level: Int
        /// The target whose breach this escalation answers.
        public var target: SLATarget
        /// When that breach happened.
        public var breachedAt: Date
    }

    /// Targets about to be breached that need a warning now.
    public var warnings: [SLATarget]
    /// The escalation due now, if any.
    public var escalation: Escalation?
    /// When the next warning or escalation falls due if nothing changes; `nil` when none ever will.
    /// It may be `now` when breaches were missed and another escalation is already due.
    public var nextCheckAt: Date?
    /// The progress once this plan's messages are published: store it in the same transaction.
    public var progress: EscalationProgress

    /// Whether there is nothing to publish.
    public var isEmpty: Bool { warnings.isEmpty && escalation == nil }
}

extension SLAPolicy {
    /// Plans warnings and escalations for a complaint at `now`.
    ///
    /// The rule for levels: every time a running clock uses up its target it is a breach, and so again
    /// after each further full target period (first response 1 h: breaches at 1 h, 2 h, 3 h of working
    /// time). Breaches of both clocks are merged in time order, and level k answers the k-th. So level k
    /// of a single clock is due when its target has been exceeded by k−1 further periods, and a resolution
    /// breach after a late first response still escalates, one level higher.
    ///
    /// At most one escalation per call, always `progress.level + 1`: a level is never skipped or sent
    /// twice, and missed breaches are caught up one per call (`nextCheckAt` is then `now`). Nothing is
    /// planned beyond `max_escalation_level`, nor for a resolved complaint.
    ///
    /// A warning is due once per target when its clock has run `warning_fraction` of it, while the clock
    /// still runs, the target is not yet breached (a late sweep lets the escalation speak) and an
    /// escalation can still follow.
    ///
    /// The resolution target's first breach is looked at even when no level is left for it (the first response's
    /// breaches used them up): it is the complaint's SLA outcome and the fact behind `complaint_unresolved`, which
    /// the sweep records then without an escalation; `nextCheckAt` comes no later than that breach.
    ///
    /// Counting by level means a backdated acknowledgement that removes an already escalated breach
    /// leaves that level used: the next breach escalates one level higher, never the same level again.
    public func escalationPlan(
        for clock: SLAClock,
        priority: ComplaintPriority,
        in time: WorkingTime,
        progress: EscalationProgress,
        now: Date
    ) -> EscalationPlan {
        var next = progress
        guard clock.state != .resolved else {
            return EscalationPlan(warnings: [], escalation: nil, nextCheckAt: nil, progress: next)
        }
        let schedules = SLATarget.allCases.map { schedule(of: $0, for: clock, priority: priority, in: time) }
        // Both clocks' breaches in time order; on a tie first response counts first (`allCases` order).
        let breaches = Array(
            schedules.enumerated()
                .flatMap { index, schedule in schedule.breaches.map { (at: $0, order: index, target: schedule.target) }
                }
                .sorted { ($0.at, $0.order) < ($1.at, $1.order) }
                .prefix(maxEscalationLevel)
        )

        var escalation: EscalationPlan.Escalation?
        if progress.level < breaches.count, breaches[progress.level].at <= now {
            let breach = breaches[progress.level]
            escalation = .init(level: progress.level + 1, target: breach.target, breachedAt: breach.at)
            next.level += 1
        }

        var upcoming: [Date] = []
        if next.level < breaches.count {
            upcoming.append(max(breaches[next.level].at, now))
        }
        if clock.isRunning(.resolution),
            let resolution = schedules.first(where: { $0.target == .resolution })?.breaches.first, resolution > now
        {
            upcoming.append(resolution)
        }
        var warnings: [SLATarget] = []
        for schedule in schedules
        where next.level < maxEscalationLevel && clock.isRunning(schedule.target)
            && !progress.warned.contains(schedule.target)
        {
            guard let warnAt = schedule.warningAt, let dueAt = schedule.breaches.first, now < dueAt else { continue }
            if warnAt <= now {
                warnings.append(schedule.target)
                next.warned.insert(schedule.target)
            } else {
                upcoming.append(warnAt)
            }
        }
        return EscalationPlan(warnings: warnings, escalation: escalation, nextCheckAt: upcoming.min(), progress: next)
    }

    /// When one target's warning falls due and when it is breached: at its target, then after each
    /// further full target period, up to `max_escalation_level` breaches.
    private func schedule(
        of target: SLATarget,
        for clock: SLAClock,
        priority: ComplaintPriority,
        in time: WorkingTime
    ) -> (target: SLATarget, warningAt: Date?, breaches: [Date]) {
        let allowance = allowance(target, for: priority)
        guard allowance > 0 else { return (target, nil, []) }
        let amounts = [allowance * warningFraction] + (1...max(maxEscalationLevel, 1)).map { allowance * Double($0) }
        let instants = clock.instants(whenElapsed: amounts, of: target, in: time)
        // A stopped clock has no instants past its stop: its breaches end there.
        return (target, instants[0], instants.dropFirst().prefix { $0 != nil }.compactMap { $0 })
    }
}
