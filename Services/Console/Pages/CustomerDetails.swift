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
    /// The purchase model the scores carry and its time unit in days, for p_alive over time.
    let model: (model: any PurchaseModel, unitDays: Double, asOf: Date)?

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

    /// The purchase model the scores carry (`selected`, BG/NBD for a model stored before there was a choice), its
    /// time unit in days and the model's as-of time, when fitted.
    var purchaseModel: (model: any PurchaseModel, unitDays: Double, asOf: Date)? {
        let kind = (object["selected"] as? String).flatMap(PurchaseModelKind.init(rawValue:)) ?? .bgnbd
        guard let fitted = object[kind.rawValue] as? [String: Any] else { return nil }
        let values = kind.parameterNames.compactMap { Self.number(fitted[$0]) }
        guard values.count == 4 else { return nil }
        let model: any PurchaseModel =
            switch kind {
            case .bgnbd: BGNBD(r: values[0], alpha: values[1], a: values[2], b: values[3])
            case .mbgnbd: MBGNBD(r: values[0], alpha: values[1], a: values[2], b: values[3])
            case .paretoNBD: ParetoNBD(r: values[0], alpha: values[1], s: values[2], beta: values[3])
            }
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
