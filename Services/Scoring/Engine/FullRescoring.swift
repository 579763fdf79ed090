import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMSupport
import Foundation
import Logging
import Metrics
import Synchronization

/// Rescores every customer from the stored orders: aggregates set-wise, fits the purchase models (BG/NBD, MBG/NBD,
/// Pareto/NBD) and Gamma-Gamma and selects the one the scores carry (``PurchaseModels``), validates them on a
/// holdout when so configured, computes RFM quintiles and tier cut-offs over the whole base, writes back in bulk the
/// scores that moved (a replay: every score; ``KeptScores``), records the model and publishes `customer.scored` for
/// every notable change through the outbox.
///
/// Only one full rescoring runs at a time across all replicas and `crm rescore`: it holds a PostgreSQL
/// advisory lock for its whole run, released by the server if the process dies.
public struct FullRescoring: Sendable {
    /// The advisory-lock key of full rescoring.
    public static let lockKey: Int64 = 0x4352_4D5F_5343_4F52  // "CRM_SCOR"

    /// What a run did.
    public struct Report: Sendable {
        /// The stored model.
        public var model: ScoringModel
        /// Customers scored.
        public var customers: Int
        /// Scores written (fewer than `customers` when incremental scorings overtook the run, or scores were kept).
        public var written: Int
        /// Scores a run of the present left as stored because they had not moved (``KeptScores``).
        public var kept = 0
        /// `customer.scored` events enqueued.
        public var events: Int
        /// Customers left out because a figure of theirs is not a finite number (see ``CustomerScore/isWritable``);
        /// their previous scores stand.
        public var unscored: [String] = []
        /// Seconds per phase: read, fit, validate (when scheduled), score, write.
        public var phases: [(name: String, seconds: Double)]
        /// The scheduled holdout validation this run stored (`CRM_SCORING_VALIDATE_HOLDOUT`), if any.
        public var validation: StoredValidation?
    }

    public let pool: PostgresPool
    /// Where the `customer.scored` events of notable changes are written.
    public let outbox: Outbox
    public let settings: ScoringConfiguration
    public let logger: Logger
    /// PostgreSQL's `work_mem` for the rescoring's sort of all orders and its merge of the scores
    /// (`CRM_SCORING_WORK_MEM`, default 512MB): enough keeps the sort of ten million orders in memory instead of spilling
    /// it to disk, and the merge's hash of the staged scores in few batches.
    public let workMemory: String
    /// Whether the run also gathers and stores the base report (`crm report`) and keeps each score's tier and stage
    /// for the next report's moves; default true. Off, a run does what it did before the report existed, which is how
    /// the benchmark measures what the report costs.
    public var reportsBase = true
    /// The purchase models fitted: all three, as every full rescoring does; fewer only where a benchmark measures
    /// what the others cost (the others then keep the previous model's fits, and are not selected).
    public var purchaseModels = PurchaseModelKind.allCases
    /// Where the run keeps its customers between the read and the write (``ScoringSpill``; `CRM_SCORING_SPILL_DIR`,
    /// the temporary directory by default): about 200 bytes a customer, in a file removed when the run ends.
    public var spillDirectory = FileManager.default.temporaryDirectory.path
    /// Whether a run reads each customer's stored activity (`customer_activity`, kept by triggers on `orders`) rather
    /// than every order; default true. Customers with an order after the as-of time are then read from their orders;
    /// a replay to a time so far back that more than a tenth of the base ordered since, and a run with a holdout
    /// validation, read every order. Off, every run does (what the benchmark compares with).
    public var readsStoredActivity = true
    /// Whether a run of the present leaves the scores that did not move as stored (``KeptScores``); default true. Off,
    /// every run rewrites every score (what the benchmark compares with).
    public var keepsUnmovedScores = true
    /// Whether the write phase lets PostgreSQL reach the staged scores by key when they are few (a page read priced as
    /// one in memory for its transaction); default true. Off, it plans with the server's `random_page_cost`, which
    /// hashes every stored score for a few percent of them (what the benchmark compares with).
    public var probesFewScores = true
    /// Stage changes announced at a time (read, marked and handed to the outbox): the lifecycle events of a run are
    /// never all in memory at once, even when every customer's first stage is announced.
    public var announcementSlice = 20_000
    /// Customers scored, staged and handed to the outbox at a time in the write phase (20,000: a few megabytes of
    /// scores in memory at once, and few enough round trips).
    public var writeChunk = 20_000
    /// The write phase merges the staged scores as it goes while they are at most one in this many of the customers
    /// scored since the last merge (probes of the primary key then beat a hash of every stored score), and once at
    /// the end otherwise.
    static let mergeAlongShare = 4
    /// The actions of the lifecycle events a rescoring of the present announces (the built-in playbook by default).
    public var lifecyclePlaybook: LifecyclePlaybookSource
    /// How far before its start a requested as-of time may lie and the run still count as the present (1 minute):
    /// an older one is a replay, which announces no lifecycle events.
    public static let presentTolerance: TimeInterval = 60

    /// A rescoring over `pool` with `settings`.
    public init(
        pool: PostgresPool,
        outbox: Outbox,
        settings: ScoringConfiguration,
        workMemory: String = "512MB",
        logger: Logger
    ) {
        self.pool = pool
        self.outbox = outbox
        self.settings = settings
        self.workMemory = workMemory
        self.logger = logger
        lifecyclePlaybook = LifecyclePlaybookSource(logger: logger)
    }

    /// A rescoring over `pool` with `settings`, tuned by the environment's `CRM_SCORING_WORK_MEM` and
    /// `CRM_SCORING_SPILL_DIR`: what the service and `crm rescore` run.
    public init(
        pool: PostgresPool,
        outbox: Outbox,
        settings: ScoringConfiguration,
        environment: Settings,
        logger: Logger
    ) {
        self.init(
            pool: pool,
            outbox: outbox,
            settings: settings,
            workMemory: environment.string("CRM_SCORING_WORK_MEM", default: "512MB"),
            logger: logger
        )
        spillDirectory = environment.string("CRM_SCORING_SPILL_DIR", default: spillDirectory)
    }

    /// Whether a run as of `asOf` started at `started` replays the past: it then announces no lifecycle events.
    public static func isReplay(asOf: Date, started: Date) -> Bool {
        asOf < started.addingTimeInterval(-presentTolerance)
    }

    /// Runs a full rescoring as of `asOf` (the wall clock when nil). Throws ``ScoringError/Code/rescoringInProgress``
    /// at once when another run holds the lock. `progress` hears each phase's name as it starts.
    public func run(asOf requested: Date? = nil, progress: @Sendable (String) -> Void = { _ in }) async throws -> Report
    {
        let started = Date()
        let asOf = requested ?? started
        if let requested, requested > started.addingTimeInterval(60) {
            throw ScoringError(.invalidAsOf, "the as-of time \(Timestamp(requested)) is in the future")
        }
        return try await pool.withConnection { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_lock($1)", [Self.lockKey])
            guard (try locked.first?.decode(0, as: Bool.self)) == true else {
                throw ScoringError(.rescoringInProgress, "another full rescoring is running")
            }
            do {
                let report = try await run(
                    asOf: asOf,
                    requested: requested != nil,
                    started: started,
                    on: connection,
                    progress: progress
                )
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                return report
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                throw error
            }
        }
    }

    private func run(
        asOf: Date,
        requested: Bool,
        started: Date,
        on connection: PostgresConnection,
        progress: @Sendable (String) -> Void
    ) async throws -> Report {
        var clock = PhaseClock()
        let settings = self.settings
        let workMemory = self.workMemory

        progress("reading customers")
        let reportsBase = self.reportsBase
        // A replay announces nothing on crm.lifecycle: those events are for the present.
        let replay = Self.isReplay(asOf: asOf, started: started)
        let lifecyclePlaybook = replay ? nil : self.lifecyclePlaybook.current
        let readsStoredActivity = self.readsStoredActivity
        let calibrationEnd = settings.validationHoldoutDays.map { asOf.addingTimeInterval(-Double($0) * 86_400) }
        let logger = self.logger
        let spillDirectory = self.spillDirectory
        // Every customer goes to the spill file as it streams past; memory keeps only the few figures per customer the
        // fits and the base-wide cut-offs need (``BaseFigures``).
        let read = try await connection.transaction(isolation: .repeatableRead) { connection in
            // JIT compilation costs more than it saves, and work_mem decides memory against disk (the sort of every
            // order, the hash of the stored read).
            try connection.execute(
                "SELECT set_config('work_mem', $1, true), set_config('jit', 'off', true)",
                [workMemory]
            )
            let previous = try PurchaseModels.previous(on: connection, logger: logger)
            // The base report's cohorts are counted from each customer's purchase days as its orders stream past.
            var cohorts = CohortTally()
            var holdout: [HoldoutHistory] = []
            var figures = BaseFigures(settings: settings, asOf: asOf)
            var spill = try ScoringSpill(directory: spillDirectory)
            var readFromOrders = 0
            do {
                // Local functions, passed on without escaping: their captures are checked for exclusive access when
                // compiled rather than at every customer (a closure kept in a constant escapes, and each access to
                // what it captures is then checked as it runs).
                func purchaseDays(_ days: ActivityBuilder.PurchaseDays) {
                    if reportsBase { cohorts.add(purchaseDays: days) }
                }
                func add(_ entry: ScoringEntry) throws {
                    figures.add(entry.activity)
                    try spill.append(entry)
                }
                // The present (and a replay of the recent past) is read from the stored activities; a replay further
                // back and a holdout's split from the orders.
                var stored = calibrationEnd == nil && readsStoredActivity
                if stored, replay { stored = try ScoreStore.fewCustomersOrderedSince(asOf, on: connection) }
                if stored {
                    readFromOrders = try ScoreStore.streamStored(
                        asOf: asOf,
                        settings: settings,
                        on: connection,
                        purchaseDays: purchaseDays,
                        each: add
                    )
                } else {
                    // One big sort, worth parallel workers whatever the planner guesses of the as-of filter (1/3 of
                    // the rows from a value it cannot see, too few for workers by its costs; with them the read takes
                    // 2/3 the time). The stored read is left to the planner's costs, which keep it in one process:
                    // every row goes to the client, and workers only add a copy of each to the leader (on two cores
                    // beside the client, 8 s of PostgreSQL's processor for a million customers instead of 4.5).
                    try connection.execute(
                        """
                        SELECT set_config('parallel_setup_cost', '0', true), set_config('parallel_tuple_cost', '0', true)
                        """
                    )
                    try ScoreStore.stream(
                        .all,
                        asOf: asOf,
                        settings: settings,
                        calibrationEnd: calibrationEnd,
                        on: connection,
                        purchaseDays: purchaseDays,
                        holdout: { holdout.append($0) },
                        each: add
                    )
                    readFromOrders = figures.customers
                }
                try spill.finishWriting()
            } catch {
                spill.close()
                throw error
            }
            return (spill, figures, holdout, previous, cohorts, readFromOrders)
        }
        let (spill, figures, holdout, previous, cohorts, readFromOrders) = read
        defer { spill.close() }
        clock.lap("read")

        progress("fitting models")
        // The models the scores do not carry are fitted beside the scoring and the writing (which leave cores idle
        // while PostgreSQL works), unless a scheduled validation starts from them all.
        var (model, deferred) = try Self.fit(
            summaries: figures.summaries,
            customers: figures.customers,
            settings: settings,
            asOf: asOf,
            requested: requested,
            previous: previous.model,
            validation: previous.validation,
            kinds: purchaseModels,
            deferring: calibrationEnd == nil
        )
        // Never leave the thread fitting after this run ended, whichever way it ends.
        defer { deferred?.wait() }
        clock.lap("fit")

        // A scheduled validation is the newest: under `auto` it decides the selection.
        var validation: HoldoutValidation?
        if let calibrationEnd {
            progress("validating models")
            validation = PurchaseModels.validate(
                holdout,
                calibrationEnd: calibrationEnd,
                holdoutEnd: asOf,
                settings: settings,
                startingFrom: model,
                logger: logger
            )
            clock.lap("validate")
        }
        if let validation {
            model.selection = PurchaseModels.select(
                setting: settings.purchaseModel,
                fitted: model.fittedKinds.filter(purchaseModels.contains),
                validation: StoredValidation(modelID: nil, validatedAt: Date(), scheduled: true, result: validation)
            )
        }
        progress("scoring customers")
        let values = Self.calibrate(&model, figures: figures)
        clock.lap("score")

        progress("writing scores")
        let prepared = model
        let validated = validation
        let customers = figures.customers
        let outbox = self.outbox
        // A replay rewrites every score as of its time; the present keeps those that did not move.
        let keepsUnmoved = keepsUnmovedScores && !replay
        let later = deferred
        let outcome = try await connection.transaction { connection in
            // The merge joins every staged score to its stored row in one hash: with PostgreSQL's default 4 MB the
            // hash is cut into batches whose rows reach the table in no order of its pages, so each update fetches and
            // dirties a page anew (a million customers: 850,000 page reads, 9.8 s for the UPDATE against 5.6 s in one
            // batch). The same work_mem as the read keeps a million scores in one batch and ten million in three.
            //
            // When only the scores that moved are staged (a run of the present: a few percent), probing the primary key
            // for each beats that hash, which reads every stored score to find them (a million: 1.1 GB at half-full
            // pages). PostgreSQL's default random_page_cost (4, a disk's seek) prices a probe so high that it hashes
            // down to a few percent; this run read every score moments ago, so a probe is priced as a page in memory
            // (1.1), and the planner's choice follows the staged count: probes for the few, the hash for the many.
            try connection.execute(
                "SELECT set_config('work_mem', $1, true), set_config('random_page_cost', $2, true)",
                [workMemory, probesFewScores ? "1.1" : nil]
            )
            // The validation's id first, so that the model's selection can name it and the validation its model.
            var selected = prepared
            let validationID = try validated.map { _ in try ValidationStore.nextID(on: connection) }
            if let validationID, selected.selection?.basis == .holdoutError {
                selected.selection?.validationID = validationID
            }
            var stored = try ModelStore.insert(selected, on: connection)
            let storedValidation = try validated.map { result in
                try ValidationStore.insert(
                    result,
                    id: validationID,
                    modelID: stored.modelID,
                    scheduled: true,
                    on: connection
                )
            }
            let chunks = WriteChunks(
                reader: try spill.reader(),
                size: writeChunk,
                values: values,
                model: prepared,
                scorer: CustomerScorer(model: stored),
                asOf: asOf,
                keepsUnmoved: keepsUnmoved,
                base: reportsBase
                    ? BaseReportBuilder(
                        asOf: asOf,
                        previousAsOf: try BaseReportStore.latestAsOf(on: connection),
                        spend: prepared.gammaGamma?.parameters,
                        capacity: customers
                    ) : nil
            )
            chunks.base?.cohorts = cohorts
            try ScoreStore.createStage(on: connection)
            var events = 0
            var written = 0
            var merges = 0
            var merging = Duration.zero
            func mergeStage(on connection: isolated PostgresConnection) throws {
                let start = ContinuousClock.now
                try ScoreStore.describeStage(on: connection)
                written += try ScoreStore.merge(
                    modelID: stored.modelID,
                    scoredAt: asOf,
                    unlessUpdatedSince: started,
                    fullRescoring: reportsBase,
                    on: connection
                )
                merging += ContinuousClock.now - start
                merges += 1
            }
            // Where the chunks stage a few of their customers (a run of the present, which keeps the scores that did
            // not move), the staged scores are merged a chunk at a time, by probes of the primary key, while the next
            // chunk is scored: PostgreSQL's merge and the client's scoring overlap instead of taking turns. Where they
            // stage most (a replay, a base's first run) they are merged once after the last chunk, by one hash of
            // every stored score, which is faster for the many than a probe each.
            let mergesAlong = keepsUnmoved && probesFewScores
            var unmerged = (staged: 0, scored: 0)
            // A chunk at a time: predicted, scored and turned into events on a thread of its own while this one stages
            // the chunk before and hands its notable changes to the outbox. The client's scoring (about 2.4 s of processor
            // a million customers) and PostgreSQL's copy (about 2 s) overlap instead of taking turns.
            var ahead: Ahead<WriteChunks.Chunk?>? = Ahead { try chunks.next() }
            defer { _ = try? ahead?.value() }  // never leave the thread reading a spill that is about to close
            while let current = ahead {
                ahead = nil
                guard let chunk = try current.value() else { break }
                ahead = Ahead { try chunks.next() }
                try ScoreStore.stage(chunk.scores, settled: chunk.settled, on: connection)
                try ScoredEvents.enqueue(chunk.messages, into: outbox, on: connection)
                events += chunk.messages.count
                unmerged.staged += chunk.scores.count
                unmerged.scored += chunk.customers
                if mergesAlong, unmerged.staged * Self.mergeAlongShare <= unmerged.scored {
                    if unmerged.staged > 0 {
                        try mergeStage(on: connection)
                        try ScoreStore.emptyStage(on: connection)
                    }
                    unmerged = (0, 0)
                }
            }
            let (stages, tiers, cells, unscored, base, kept) = (
                chunks.stages, chunks.tiers, chunks.cells, chunks.unscored, chunks.base, chunks.kept
            )
            if unmerged.staged > 0 { try mergeStage(on: connection) }
            let merged = ContinuousClock.now
            let announced = try lifecyclePlaybook.map { playbook in
                try LifecycleAnnouncements.announceStageChanges(
                    playbook: playbook,
                    outbox: outbox,
                    slice: announcementSlice,
                    on: connection
                )
            }
            stored.statistics["lifecycle_events"] = Double(announced ?? 0)
            stored.statistics["seconds.write.merge"] = merging.seconds
            stored.statistics["merges"] = Double(merges)
            stored.statistics["seconds.write.events"] = (ContinuousClock.now - merged).seconds
            // The fits that went on beside the scoring, into the model row before it is seen.
            if let later {
                let waiting = ContinuousClock.now
                later.finish(into: &stored)
                stored.statistics["seconds.write.deferred_fits"] = (ContinuousClock.now - waiting).seconds
                try ModelStore.updateFits(stored, on: connection)
            }
            PurchaseModels.report(stored, logger: logger)
            if let base {
                let reporting = ContinuousClock.now
                try BaseReportStore.insert(base.finish(modelID: stored.modelID), on: connection)
                stored.statistics["seconds.write.report"] = (ContinuousClock.now - reporting).seconds
            }
            for (stage, count) in stages { stored.statistics["customers.stage.\(stage.rawValue)"] = Double(count) }
            for (tier, count) in tiers { stored.statistics["customers.tier.\(tier.rawValue)"] = Double(count) }
            for (cell, count) in cells { stored.statistics["customers.grid.\(cell)"] = Double(count) }
            stored.statistics["spill_bytes"] = Double(spill.bytes)
            stored.statistics["customers.read_from_orders"] = Double(readFromOrders)
            stored.statistics["events"] = Double(events)
            stored.statistics["written"] = Double(written)
            stored.statistics["kept"] = Double(kept)
            stored.statistics["unscored"] = Double(unscored.count)
            return (
                model: stored, written: written, kept: kept, events: events, unscored: unscored,
                validation: storedValidation
            )
        }
        clock.lap("write")

        model = outcome.model
        let phases = clock.phases
        for phase in phases { model.statistics["seconds.\(phase.name)"] = phase.seconds }
        let finished = model
        try await connection.transaction { connection in try ModelStore.updateStatistics(finished, on: connection) }
        Timer(label: "crm_scoring_rescore_seconds").recordSeconds(clock.total)
        // The nine-grid and the rescoring's time are gauges every replica reads from the database (ScoringGauges).
        if !outcome.unscored.isEmpty {
            logger.warning(
                "Customers left out of the full rescoring: a figure is not a finite number",
                metadata: [
                    "customers": "\(outcome.unscored.count)",
                    "customer.ids": "\(outcome.unscored.prefix(10).joined(separator: ","))",
                ]
            )
        }
        logger.info(
            "full rescoring finished",
            metadata: [
                "model.id": "\(model.modelID ?? 0)", "model.selected": "\(model.selected.rawValue)",
                "as_of": "\(Timestamp(asOf))", "customers": "\(figures.customers)",
                "written": "\(outcome.written)", "kept": "\(outcome.kept)", "events": "\(outcome.events)",
                "seconds":
                    "\(phases.map { "\($0.name)=\(String(format: "%.2f", $0.seconds))" }.joined(separator: " "))",
            ]
        )
        return Report(
            model: model,
            customers: figures.customers,
            written: outcome.written,
            kept: outcome.kept,
            events: outcome.events,
            unscored: outcome.unscored,
            phases: phases,
            validation: outcome.validation
        )
    }

    // MARK: - The model of a base
    // What a rescoring does between reading and writing, for any base held in memory.

    /// Fits BG/NBD, MBG/NBD and Pareto/NBD on every customer with purchases and Gamma-Gamma on those with repeat
    /// purchases of value, and selects the purchase model the scores carry (`settings.purchaseModel`; under
    /// `auto` by the lowest holdout error of `validation`). A base smaller than the settings' minimum gets no
    /// model; a fit that fails (a base without a repeat purchase) keeps `previous`'s fit of that model and is
    /// listed in ``ScoringModel/fitFailures``.
    public static func fit(
        _ activities: some Collection<CustomerActivity>,
        settings: ScoringConfiguration,
        asOf: Date,
        requested: Bool = false,
        previous: ScoringModel? = nil,
        validation: StoredValidation? = nil,
        kinds: [PurchaseModelKind] = PurchaseModelKind.allCases
    ) throws -> ScoringModel {
        try fit(
            summaries: activities.compactMap(\.summary),
            customers: activities.count,
            settings: settings,
            asOf: asOf,
            requested: requested,
            previous: previous,
            validation: validation,
            kinds: kinds
        ).model
    }

    /// ``fit(_:settings:asOf:requested:previous:validation:kinds:)`` from the summaries of the customers with purchases
    /// in a base of `customers`. With `deferring`, only the purchase model the scores will carry (and Gamma-Gamma) is
    /// fitted before this returns; the others go on beside the caller's scoring, holding `previous`'s fits until the
    /// caller finishes them (``PurchaseModels/DeferredFits``). Should the carried model fail without an earlier fit
    /// to keep, the others decide the selection, and are waited for here.
    static func fit(
        summaries: [TransactionSummary],
        customers: Int,
        settings: ScoringConfiguration,
        asOf: Date,
        requested: Bool,
        previous: ScoringModel?,
        validation: StoredValidation?,
        kinds: [PurchaseModelKind],
        deferring: Bool = false
    ) throws -> (model: ScoringModel, deferred: PurchaseModels.DeferredFits?) {
        var model = ScoringModel.empty(settings: settings, asOf: asOf)
        model.asOfRequested = requested
        model.fittedAt = Date()
        model.customers = customers
        func select() {
            model.selection = PurchaseModels.select(
                setting: settings.purchaseModel,
                fitted: model.fittedKinds.filter(kinds.contains),
                validation: validation
            )
        }
        // The selection were every fit to succeed: the one model the scores need now.
        let carried =
            deferring
            ? PurchaseModels.select(setting: settings.purchaseModel, fitted: kinds, validation: validation)?.selected
            : nil
        var deferred = PurchaseModels.fit(
            &model,
            summaries: summaries,
            previous: previous,
            kinds: kinds,
            deferring: carried.map { carried in kinds.filter { $0 != carried } } ?? []
        )
        select()
        if let later = deferred, model.selection?.selected != carried {
            later.finish(into: &model)
            deferred = nil
            select()
        }
        return (model, deferred)
    }

    /// Every customer's model figures by the selected purchase model, in order: p_alive, expected purchases in 90
    /// days, predicted value (all nil without purchases or without a fitted purchase model). What depends on
    /// (x, T) alone is computed once per distinct pair.
    public static func predict(
        _ activities: some Collection<CustomerActivity>,
        model: ScoringModel
    ) -> [CustomerPredictions] {
        predict(activities, model: model, values: nil)
    }

    /// ``predict(_:model:)`` with the predicted values already computed, one per activity (see
    /// ``PurchaseModels/predictions(_:spend:summaries:settings:values:)``).
    static func predict(
        _ activities: some Collection<CustomerActivity>,
        model: ScoringModel,
        values: [Double]?
    ) -> [CustomerPredictions] {
        guard let transactions = model.purchaseModel else { return activities.map { _ in .none } }
        return PurchaseModels.predictions(
            transactions,
            spend: model.gammaGamma?.parameters,
            summaries: activities.map(\.summary),
            settings: model.settings,
            values: values
        )
    }

    /// Sets the base-wide figures of `model` from the whole base: the RFM quintile breakpoints and the value tiers'
    /// cut-offs (which rank every customer with purchases by value, `predictions` included).
    public static func calibrate(
        _ model: inout ScoringModel,
        activities: some Collection<CustomerActivity>,
        predictions: [CustomerPredictions]
    ) {
        var figures = BaseFigures(settings: model.settings, asOf: model.asOf)
        for activity in activities { figures.add(activity) }
        let predicted = zip(activities, predictions).compactMap { activity, prediction in
            activity.orderCount > 0 ? prediction.predicted : nil
        }
        calibrate(&model, figures: figures, predicted: predicted)
    }

    /// ``calibrate(_:activities:predictions:)`` from the figures a streaming read kept, with the predicted values of
    /// the customers with purchases computed here a slice at a time. Returns those values, in the order read (nil
    /// without a purchase model or a spend model): the write phase's predictions take them rather than value every
    /// customer again.
    @discardableResult
    static func calibrate(_ model: inout ScoringModel, figures: BaseFigures) -> [Double]? {
        var predicted: [Double]?
        if let transactions = model.purchaseModel, let spend = model.gammaGamma?.parameters {
            var values: [Double] = []
            values.reserveCapacity(figures.summaries.count)
            var start = 0
            while start < figures.summaries.count {
                let end = min(start + 100_000, figures.summaries.count)
                values += PurchaseModels.values(
                    transactions,
                    spend: spend,
                    summaries: Array(figures.summaries[start..<end]),
                    settings: model.settings
                )
                start = end
            }
            predicted = values
        }
        calibrate(&model, figures: figures, predicted: predicted ?? [])
        return predicted
    }

    /// Sets the RFM breakpoints, the tier cut-offs and the quantiles of the predicted values from `figures` and the
    /// predicted values of its customers with purchases, in order (empty when there are none: each customer's value
    /// falls back as ``CLVFigures`` says).
    private static func calibrate(_ model: inout ScoringModel, figures: BaseFigures, predicted: [Double]) {
        model.rfm = RFMBreakpoints(base: figures.rfm, settings: model.settings.rfm)
        // Rounded as `customer_scores.clv_predicted` stores them, so that a stored value finds its own place among them.
        model.valueQuantiles = ValueQuantiles(values: predicted.map { ($0 * 10_000).rounded() / 10_000 })
        var values = figures.plainTierValues
        if model.settings.tiering.valueBasis == .predicted {
            for (index, value) in predicted.enumerated() { values[index] = value }
        }
        model.tierCutoffs = TierCutoffs(values: values, settings: model.settings.tiering)
    }
}

/// What a full rescoring keeps in memory of every customer between its read and its calibration: the summary the
/// purchase models are fitted to, the RFM values and the value the tiers rank where it needs no model. About 70 bytes
/// a customer with purchases; the rest of each customer waits in the ``ScoringSpill``.
struct BaseFigures: Sendable {
    /// Customers read, with purchases or without.
    private(set) var customers = 0
    /// The summaries of the customers with purchases, in the order read.
    private(set) var summaries: [TransactionSummary] = []
    /// The same customers' values under the tiers' value basis: historical (the `predicted` basis's fallback until
    /// the predictions replace it) or simple.
    private(set) var plainTierValues: [Double] = []
    /// The RFM values of every customer with purchases.
    private(set) var rfm: [RFMValues] = []
    private let asOf: Date
    private let basis: ValueBasis
    private let scorer: CustomerScorer

    init(settings: ScoringConfiguration, asOf: Date) {
        self.asOf = asOf
        basis = settings.tiering.valueBasis
        scorer = CustomerScorer(model: .empty(settings: settings, asOf: asOf))
    }

    /// The summary of a customer ``summaries`` holds: one with purchases.
    static func summary(_ activity: CustomerActivity) -> TransactionSummary? {
        activity.orderCount > 0 ? activity.summary : nil
    }

    /// Keeps what the base-wide figures need of one customer's activity.
    mutating func add(_ activity: CustomerActivity) {
        customers += 1
        if let values = CustomerScorer.rfmValues(activity, asOf: asOf) { rfm.append(values) }
        guard let summary = Self.summary(activity) else { return }
        summaries.append(summary)
        let plain = scorer.plainValues(activity, asOf: asOf)
        plainTierValues.append(basis == .simple ? plain.simple : plain.historical)
    }
}

/// The write phase's customers, scored from the spill a chunk at a time (``FullRescoring/writeChunk`` each): predicted,
/// scored, counted into the run's figures and turned into their `customer.scored` events, on a thread of its own
/// (``Ahead``) one chunk ahead of the connection staging the chunk before. One chunk is scored at a time and the
/// connection reads the counts only after the last, so the state needs no lock.
private final class WriteChunks: @unchecked Sendable {
    /// One chunk's writable scores, whether each was settled (the stored score had the same stage and tier), and the
    /// events of its notable changes.
    struct Chunk {
        /// Customers scored, kept ones included.
        var customers = 0
        var scores: [CustomerScore] = []
        var settled: [Bool] = []
        var messages: [OutboundMessage] = []
    }

    private var reader: ScoringSpill.Reader
    /// Customers a chunk.
    private let size: Int
    /// The predicted values of the customers with purchases, in the order read (``FullRescoring/calibrate(_:figures:)``),
    /// and the position of the next chunk's first among them.
    private let values: [Double]?
    private var nextValue = 0
    private let model: ScoringModel
    private let scorer: CustomerScorer
    private let asOf: Date
    var base: BaseReportBuilder?
    private var stageCounts = CaseCounts<LifecycleStage>()
    private var tierCounts = CaseCounts<ValueTier>()
    private var cellCounts = [Int](repeating: 0, count: 9)
    /// Customers scored by stage, tier and nine-grid cell (its id).
    var stages: [LifecycleStage: Int] { stageCounts.counted }
    var tiers: [ValueTier: Int] { tierCounts.counted }
    var cells: [String: Int] { Dictionary(uniqueKeysWithValues: zip(NineGridCell.ids, cellCounts).filter { $0.1 > 0 }) }
    /// Customers left out because a figure is not a finite number.
    private(set) var unscored: [String] = []
    /// Whether a score that did not move stays as stored rather than staged (``KeptScores``).
    private let keepsUnmoved: Bool
    /// Scores left as stored.
    private(set) var kept = 0

    init(
        reader: ScoringSpill.Reader,
        size: Int,
        values: [Double]?,
        model: ScoringModel,
        scorer: CustomerScorer,
        asOf: Date,
        keepsUnmoved: Bool,
        base: BaseReportBuilder?
    ) {
        self.reader = reader
        self.size = size
        self.values = values
        self.model = model
        self.scorer = scorer
        self.asOf = asOf
        self.keepsUnmoved = keepsUnmoved
        self.base = base
    }

    /// The next chunk, nil after the last.
    func next() throws -> Chunk? {
        let entries = try reader.next(size)
        guard !entries.isEmpty else { return nil }
        var chunk = Chunk()
        chunk.customers = entries.count
        chunk.scores.reserveCapacity(entries.count)
        chunk.settled.reserveCapacity(entries.count)
        for (entry, (score, unmoved)) in zip(entries, scoreSideBySide(entries, values: knownValues(entries))) {
            guard score.isWritable else {
                unscored.append(entry.customerID)
                continue
            }
            stageCounts.add(score.stage)
            tierCounts.add(score.tier)
            if let grid = score.grid { cellCounts[grid.index] += 1 }
            base?.add(score, rescored: entry.rescored)
            if scorer.isNotable(score, previous: entry.previous),
                let message = try ScoredEvents.message(for: score, previous: entry.previous)
            {
                chunk.messages.append(message)
            }
            // The tier and stage of this rescoring must reach the row too when it keeps them for the report's moves.
            if unmoved, base == nil || (entry.rescored?.tier == score.tier && entry.rescored?.stage == score.stage) {
                kept += 1
                continue
            }
            chunk.scores.append(score)
            chunk.settled.append(entry.previous.map { $0.stage == score.stage && $0.tier == score.tier } ?? false)
        }
        return chunk
    }

    /// The calibration's predicted values of `entries`, one each (0 for a customer without purchases, which gets
    /// none); nil when the calibration valued none, or not every customer the predictions value (a summary without a
    /// counted purchase, which no stored activity has), whose values are then computed again.
    private func knownValues(_ entries: [ScoringEntry]) -> [Double]? {
        guard let values else { return nil }
        var complete = true
        let known = entries.map { entry in
            guard BaseFigures.summary(entry.activity) != nil else {
                if entry.activity.summary != nil { complete = false }
                return 0.0
            }
            defer { nextValue += 1 }
            return values[nextValue]
        }
        return complete ? known : nil
    }

    /// Each entry's score, and whether it did not move from the stored one (only when unmoved scores are kept),
    /// in order. One customer's figures depend on no other's, so the entries are predicted and scored in as many
    /// parts as the machine has cores, side by side: in a run of the present, which stages a few percent of the
    /// scores, this is the write phase's main work on the client. Where the staging keeps the other cores busy (ten
    /// million customers, 14% staged, on two cores) it gains nothing measurable. `values` are the entries' predicted
    /// values from the calibration (``knownValues(_:)``), computed here when nil.
    private func scoreSideBySide(
        _ entries: [ScoringEntry],
        values: [Double]?
    ) -> [(score: CustomerScore, unmoved: Bool)] {
        let (model, scorer, asOf, keepsUnmoved) = (model, scorer, asOf, keepsUnmoved)
        let partCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, entries.count / 1_000))
        let partSize = (entries.count + partCount - 1) / partCount
        let parts = Mutex<[Int: [(score: CustomerScore, unmoved: Bool)]]>([:])
        DispatchQueue.concurrentPerform(iterations: partCount) { part in
            let range = part * partSize..<min(entries.count, (part + 1) * partSize)
            let slice = entries[range]
            let predictions = FullRescoring.predict(
                slice.lazy.map(\.activity),
                model: model,
                values: values.map { Array($0[range]) }
            )
            let scored = zip(slice, predictions).map { entry, prediction in
                let score = scorer.score(
                    customerID: entry.customerID,
                    activity: entry.activity,
                    previous: entry.previous,
                    asOf: asOf,
                    predictions: prediction
                )
                let unmoved = keepsUnmoved && entry.previous.map { KeptScores.isUnmoved(score, stored: $0) } == true
                return (score, unmoved)
            }
            parts.withLock { $0[part] = scored }
        }
        return parts.withLock { parts in (0..<partCount).flatMap { parts[$0] ?? [] } }
    }
}
