import CRMPostgres
import Foundation

/// How each desk is doing, from the complaints it was routed: what is open now, what breached its SLA, what was
/// escalated, the share of SLA targets met, and the mean time to the first response. `crm desks` and the web
/// console's desks page read the same figures.
public struct DeskFigures: Sendable, Hashable {
    public var desk: String
    /// Every complaint routed to the desk.
    public var complaints: Int
    /// Not resolved.
    public var open: Int
    /// Open, with a first-response or resolution target breached.
    public var breachedOpen: Int
    /// Open and escalated at least once.
    public var escalatedOpen: Int
    /// Escalated at least once, open or not.
    public var escalated: Int
    /// SLA targets met and breached, first response and resolution counted separately, once decided.
    public var targetsMet: Int
    public var targetsBreached: Int
    /// Mean seconds from receipt to the first response, over the complaints answered; nil before any.
    public var meanFirstResponseSeconds: Double?

    /// Met ÷ decided targets; nil before any target is decided.
    public var attainment: Double? {
        targetsMet + targetsBreached == 0 ? nil : Double(targetsMet) / Double(targetsMet + targetsBreached)
    }

    /// Every desk that has been routed a complaint, by name: one pass over `complaints`.
    public static func load(pool: PostgresPool) async throws -> [DeskFigures] {
        try await pool.transaction { connection in try load(on: connection) }
    }

    /// The same, on the caller's connection.
    public static func load(on connection: isolated PostgresConnection) throws -> [DeskFigures] {
        try connection.query(
            """
            SELECT desk, count(*),
                   count(*) FILTER (WHERE state <> 'resolved'),
                   count(*) FILTER (WHERE state <> 'resolved'
                                    AND (first_response_outcome = 'breached' OR resolution_outcome = 'breached')),
                   count(*) FILTER (WHERE state <> 'resolved' AND escalation_level > 0),
                   count(*) FILTER (WHERE escalation_level > 0),
                   count(*) FILTER (WHERE first_response_outcome = 'met')
                       + count(*) FILTER (WHERE resolution_outcome = 'met'),
                   count(*) FILTER (WHERE first_response_outcome = 'breached')
                       + count(*) FILTER (WHERE resolution_outcome = 'breached'),
                   avg(extract(epoch FROM responded_at - received_at)) FILTER (WHERE responded_at IS NOT NULL)::float8
            FROM complaints GROUP BY desk ORDER BY desk
            """
        ).map { row in
            DeskFigures(
                desk: try row.decode(0),
                complaints: try row.decode(1),
                open: try row.decode(2),
                breachedOpen: try row.decode(3),
                escalatedOpen: try row.decode(4),
                escalated: try row.decode(5),
                targetsMet: try row.decode(6),
                targetsBreached: try row.decode(7),
                meanFirstResponseSeconds: try row.decodeIfPresent(8)
            )
        }
    }
}
