import CRMAMQP
import CRMContract
import CRMOutbox
import CRMPostgres
import CRMRuntime
import CRMSupport
import Foundation
import Logging

/// The parts of `crm-scoring` that run inside the service host.
public enum ScoringService {
    /// The broker objects this service uses, declared by `crm migrate` and checked at start.
    public static let topology = Topology.scoring

    /// How `scoring.events` is consumed unless `CRM_SCORING_*` says otherwise: 200 events a batch.
    public static func consumerSettings(_ settings: Settings) throws(SettingsError) -> ConsumerSettings {
        try ConsumerSettings(settings, prefix: "SCORING", batchSize: 200)
    }

    /// Builds the consumer of `scoring.events` (incremental scoring), the full-rescoring schedule, the sweep of
    /// purchases due, the outbox relay of `customer.scored` and lifecycle events and the routes `GET /customers/{id}`,
    /// `GET /customers` and `GET /report`.
    ///
    /// Settings: ``consumerSettings(_:)``, `CRM_SCORING_RESCORE_INTERVAL` (default 24h),
    /// `CRM_SCORING_PURCHASE_DUE_INTERVAL` (default 5m), `CRM_LIFECYCLE_PLAYBOOK_FILE` (default the built-in
    /// playbook) and the model and rule settings of ``ScoringConfiguration``.
    public static func parts(_ context: ServiceContext) async throws -> ServiceParts {
        let settings = try ScoringConfiguration(context.settings)
        let interval = try context.settings.duration("CRM_SCORING_RESCORE_INTERVAL", default: .seconds(86_400))
        let relay = context.outboxRelay(for: .scoring)
        let outbox = Outbox(relay: relay)
        let playbook = try lifecyclePlaybook(context.settings, logger: context.logger)
        let dueInterval = try context.settings.duration("CRM_SCORING_PURCHASE_DUE_INTERVAL", default: .seconds(300))
        let incremental = IncrementalScoring(
            pool: context.pool,
            outbox: outbox,
            settings: settings,
            playbook: playbook,
            logger: context.logger
        )
        let consumers = context.consumers(
            of: Topology.scoringEventsQueue,
            topology: topology,
            settings: try consumerSettings(context.settings),
            publishers: context.internalEventPublishers,
            handler: incremental.handle
        )
        var rescoring = FullRescoring(
            pool: context.pool,
            outbox: outbox,
            settings: settings,
            environment: context.settings,
            logger: context.logger
        )
        rescoring.lifecyclePlaybook = playbook
        let schedule = RescoreSchedule(rescoring: rescoring, interval: interval, logger: context.logger)
        let due = PurchaseDueSweep(
            pool: context.pool,
            outbox: outbox,
            playbook: playbook,
            interval: dueInterval,
            logger: context.logger
        )
        return ServiceParts(
            services: consumers + [relay, schedule, due],
            routes: [
                customerRoute(pool: context.pool), customersRoute(pool: context.pool), reportRoute(pool: context.pool),
            ]
        )
    }

    /// The lifecycle playbook of `CRM_LIFECYCLE_PLAYBOOK_FILE`, reread when edited, or the one built in when unset.
    public static func lifecyclePlaybook(_ settings: Settings, logger: Logger) throws -> LifecyclePlaybookSource {
        guard let path = settings.string("CRM_LIFECYCLE_PLAYBOOK_FILE") else {
            return LifecyclePlaybookSource(logger: logger)
        }
        do {
            return try LifecyclePlaybookSource(path: path, logger: logger)
        } catch let error as ScoringRulesError {
            throw SettingsError(variable: "CRM_LIFECYCLE_PLAYBOOK_FILE", problem: error.context)
        }
    }

    /// `GET /customers?FILTERS&sort=…&limit=N&after=CURSOR`: a keyset page of customer objects,
    /// `{"customers": [...], "next": CURSOR|null}`; with `Accept: text/csv`, the whole selection as CSV, streamed.
    /// A parameter that cannot be used answers 400 with `{"error": …, "parameter": …}`.
    static func customersRoute(pool: PostgresPool) -> HTTPServer.Route {
        { request in
            guard request.path == "/customers" else { return nil }
            let csv = request.prefers("text/csv", over: "application/json")
            let query: CustomerQuery
            do throws(CustomerSelectionError) {
                query = try CustomerQuery(
                    parameters: request.queryItems.map { ($0.name, $0.value) },
                    pageLimit: csv ? nil : CustomerQuery.maximumPageSize
                )
            } catch {
                var body: [UInt8] = Array(#"{"error":"#.utf8)
                body.appendJSONString(error.description)
                body.append(contentsOf: #","parameter":"#.utf8)
                body.appendJSONString(error.parameter)
                body.append(UInt8(ascii: "}"))
                return .json(String(decoding: body, as: UTF8.self), status: 400)
            }
            if csv {
                return .streaming(
                    contentType: "text/csv; charset=utf-8",
                    headers: [("Content-Disposition", #"attachment; filename="customers.csv""#)]
                ) { writer in
                    try await CustomerList.csvPages(query, pool: pool) { try await writer.write($0) }
                }
            }
            do {
                return .json(try await CustomerList.page(query, pool: pool))
            } catch {
                return .json(#"{"error":"the database is unavailable"}"#, status: 503)
            }
        }
    }

    /// `GET /report`: the base report of the last full rescoring (as `crm report --json`), 404 before the first.
    static func reportRoute(pool: PostgresPool) -> HTTPServer.Route {
        HTTPServer.route("/report") {
            do {
                guard let json = try await BaseReportStore.latestJSON(pool: pool) else {
                    return .json(#"{"error":"no full rescoring yet"}"#, status: 404)
                }
                return .json(json)
            } catch {
                return .json(#"{"error":"the database is unavailable"}"#, status: 503)
            }
        }
    }

    /// `GET /customers/{id}`: the customer object, 404 when never scored, 400 for an id no customer can have (a NUL,
    /// a control character, more than 128 characters: the rules of `customer_id`).
    static func customerRoute(pool: PostgresPool) -> HTTPServer.Route {
        { request in
            let prefix = "/customers/"
            guard request.path.hasPrefix(prefix), request.path.count > prefix.count else { return nil }
            let id = String(request.path.dropFirst(prefix.count))
            do throws(MessageRejection) {
                _ = try Identifier(id)
            } catch {
                return .json(#"{"error":"customer id: \#(error.problem)"}"#, status: 400)
            }
            do {
                guard let json = try await CustomerView.json(customerID: id, pool: pool) else {
                    return .json(#"{"error":"no such customer"}"#, status: 404)
                }
                return .json(json)
            } catch {
                return .json(#"{"error":"the database is unavailable"}"#, status: 503)
            }
        }
    }
}
