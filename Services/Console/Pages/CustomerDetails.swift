import CRMPostgres
import Foundation
import Scoring

/// Everything the customer page shows, read in a few statements: the customer object (as `crm customer ID --json`),
/// its name, its timeline (as `crm customer ID --timeline`) and the model that scored it.
///
/// Decoded JSON (`[String: Any]`) is not `Sendable` by type; these values are made once and only read.
struct CustomerDetails: @unchecked Sendable {
    /// The customer object, decoded (JSON objects as dictionaries).
    let object: [String: Any]
    let name: String?
    /// The timeline's events, oldest first.
    let events: [[String: Any]]
    /// BG/NBD of the newest model and its time unit in days, for p_alive over time.
    let model: (bgnbd: BGNBD, unitDays: Double, asOf: Date)?

    /// The details of `customerID`, or nil when it was never scored.
    static func load(customerID: String, pool: PostgresPool) async throws -> CustomerDetails? {
        guard let objectJSON = try await CustomerView.json(customerID: customerID, pool: pool),
            let object = try JSONSerialization.jsonObject(with: Data(objectJSON.utf8)) as? [String: Any]
        else { return nil }
        let name = try await pool.query("SELECT name FROM customers WHERE customer_id = $1", [customerID]).first?[0]
        var events: [[String: Any]] = []
        if let timeline = try await CustomerTimeline.json(customerID: customerID, pool: pool),
            let parsed = try JSONSerialization.jsonObject(with: Data(timeline.utf8)) as? [String: Any]
        {
            events = parsed["events"] as? [[String: Any]] ?? []
        }
        return CustomerDetails(
            object: object,
            name: name,
            events: events,
            model: try await ModelSummary.load(pool: pool)?.purchaseModel
        )
    }
}

/// The newest model as `crm model --json` shows it, with the parts the console draws from (made once, only read).
struct ModelSummary: @unchecked Sendable {
    let object: [String: Any]

    static func load(pool: PostgresPool) async throws -> ModelSummary? {
        guard let json = try await ModelView.json(pool: pool),
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        else { return nil }
        return ModelSummary(object: object)
    }

    /// BG/NBD's parameters, its time unit in days and the model's as-of time, when fitted.
    var purchaseModel: (bgnbd: BGNBD, unitDays: Double, asOf: Date)? {
        guard let fitted = object["bgnbd"] as? [String: Any],
            let r = Self.number(fitted["r"]), let alpha = Self.number(fitted["alpha"]),
            let a = Self.number(fitted["a"]), let b = Self.number(fitted["b"])
        else { return nil }
        let model = BGNBD(r: r, alpha: alpha, a: a, b: b)
        guard model.isValid else { return nil }
        return (model, Self.number(object["time_unit_days"]) ?? 7, Self.date(object["as_of"]) ?? Date())
    }

    static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let text as String: Double(text)
        default: nil
        }
    }

    /// A time as PostgreSQL's JSON writes a timestamptz (`2026-12-05T10:00:00+00:00`, fractions optional) or as
    /// RFC 3339.
    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
