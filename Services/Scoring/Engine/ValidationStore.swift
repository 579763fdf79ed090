import CRMContract
import CRMPostgres
import Foundation

/// A holdout validation as stored in `scoring_validations`, with the model it validated.
public struct StoredValidation: Sendable {
    /// Row id; nil before it is stored.
    public var validationID: Int64? = nil
    /// The model it is stored with: the one the same full rescoring stored, or for `crm model validate` the newest
    /// model then (nil before the first full rescoring).
    public var modelID: Int64?
    /// When it ran.
    public var validatedAt: Date
    /// Whether a full rescoring ran it (`CRM_SCORING_VALIDATE_HOLDOUT`) rather than `crm model validate`.
    public var scheduled: Bool
    /// The figures.
    public var result: HoldoutValidation

    /// The interface's JSON object (`crm model validate --json`): the result's keys, plus `validation_id`,
    /// `model_id`, `validated_at` and `scheduled`.
    public func json() throws -> String {
        let data = try ValidationStore.encoder.encode(result)
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return "{}" }
        object["validation_id"] = validationID.map { $0 as Any } ?? NSNull()
        object["model_id"] = modelID.map { $0 as Any } ?? NSNull()
        object["validated_at"] = Timestamp(validatedAt).rfc3339
        object["scheduled"] = scheduled
        let text = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: text, as: UTF8.self)
    }
}

/// Reads and writes `scoring_validations`, and reads the orders a validation needs.
enum ValidationStore {
    /// The stored form of a ``HoldoutValidation``: the interface's keys, dates in RFC 3339.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp(date).rfc3339)
        }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity",
            negativeInfinity: "-Infinity",
            nan: "NaN"
        )
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            do {
                return try Timestamp(rfc3339: text).date
            } catch {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not RFC 3339: \(text)")
            }
        }
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity",
            negativeInfinity: "-Infinity",
            nan: "NaN"
        )
        return decoder
    }()

    /// The id the next validation will have, taken now so that a model stored first can name it.
    static func nextID(on connection: isolated PostgresConnection) throws -> Int64 {
        let rows = try connection.query(
            "SELECT nextval(pg_get_serial_sequence('scoring_validations', 'validation_id'))"
        )
        return try rows[0].decode(0, as: Int64.self)
    }

    /// Stores a validation with model `modelID` (under `id` when taken by ``nextID(on:)``) and returns it with
    /// its id.
    static func insert(
        _ result: HoldoutValidation,
        id: Int64? = nil,
        modelID: Int64?,
        scheduled: Bool,
        on connection: isolated PostgresConnection
    ) throws -> StoredValidation {
        let json = String(decoding: try encoder.encode(result), as: UTF8.self)
        let rows = try connection.query(
            """
            INSERT INTO scoring_validations (validation_id, model_id, scheduled, calibration_end, holdout_end, result)
            VALUES (coalesce($1, nextval(pg_get_serial_sequence('scoring_validations', 'validation_id'))),
                    $2, $3, $4, $5, $6::jsonb)
            RETURNING validation_id, validated_at
            """,
            [id, modelID, scheduled, result.calibrationEnd, result.holdoutEnd, json]
        )
        return StoredValidation(
            validationID: try rows.first?.decode(0, as: Int64.self),
            modelID: modelID,
            validatedAt: try rows.first?.decode(1, as: Date.self) ?? Date(),
            scheduled: scheduled,
            result: result
        )
    }

    /// The newest validation, or nil when there is none.
    static func newest(on connection: isolated PostgresConnection) throws -> StoredValidation? {
        let rows = try connection.query(
            """
            SELECT validation_id, model_id, validated_at, scheduled, result
            FROM scoring_validations ORDER BY validation_id DESC LIMIT 1
            """
        )
        guard let row = rows.first else { return nil }
        let result: HoldoutValidation
        do {
            result = try decoder.decode(HoldoutValidation.self, from: Data((row[4] ?? "").utf8))
        } catch {
            throw ScoringError(.unreadableModel, "validation \(row[0] ?? "?"): \(error)")
        }
        return StoredValidation(
            validationID: try row.decode(0),
            modelID: try row.decodeIfPresent(1),
            validatedAt: try row.decode(2),
            scheduled: try row.decode(3),
            result: result
        )
    }

    /// The time of the newest purchase, nil without any.
    static func newestPurchase(on connection: isolated PostgresConnection) throws -> Date? {
        try connection.query("SELECT max(occurred_at) FROM orders WHERE kind = 'purchase' AND NOT held")
            .first?.decodeIfPresent(0, as: Date.self)
    }

    /// The split histories of every customer who bought at or before `calibrationEnd`, from the purchases up to
    /// `holdoutEnd`: one `COPY` stream of purchase times ordered by customer, folded as it passes.
    static func histories(
        calibrationEnd: Date,
        holdoutEnd: Date,
        unit: TimeUnit,
        on connection: isolated PostgresConnection
    ) throws -> [HoldoutHistory] {
        try connection.execute("SELECT set_config('crm.validation_holdout_end', $1, true)", [holdoutEnd])
        var histories: [HoldoutHistory] = []
        var current: String?
        var times: [Double] = []
        func finish() {
            guard !times.isEmpty else { return }
            let history = HoldoutHistory(
                purchaseTimes: times,
                calibrationEnd: calibrationEnd.timeIntervalSince1970,
                holdoutEnd: holdoutEnd.timeIntervalSince1970,
                unit: unit
            )
            if let history { histories.append(history) }
            times.removeAll(keepingCapacity: true)
        }
        try connection.copyOutBinary(
            """
            SELECT customer_id COLLATE "C", date_part('epoch', occurred_at)
            FROM orders
            WHERE kind = 'purchase' AND NOT held
              AND occurred_at <= (SELECT current_setting('crm.validation_holdout_end')::timestamptz)
            ORDER BY 1
            """
        ) { fields in
            guard let id = try fields.text(), let time = try fields.float8() else {
                throw ScoringError(.unreadableRow, "an order without a customer or a time")
            }
            if id != current {
                finish()
                current = id
            }
            times.append(time)
        }
        finish()
        return histories
    }
}
