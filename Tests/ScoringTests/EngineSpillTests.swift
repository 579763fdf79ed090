import CRMContract
import Foundation
import Testing

@testable import Scoring

/// What a full rescoring keeps of its base between the read and the write: every customer in the spill file, and the
/// figures the fits and cut-offs need in memory.
@Suite struct EngineSpillTests {
    /// The CDNOW sample's customers as a rescoring reads them, with previous scores of every shape.
    static func entries() throws -> [ScoringEntry] {
        let stages = LifecycleStage.allCases
        let tiers = ValueTier.allCases
        return try EngineBaseModelTests.sampleActivities().enumerated().map { index, activity in
            var entry = ScoringEntry(customerID: index % 7 == 0 ? "kund-\(index)-ü\tx" : String(index))
            entry.activity = activity
            if index % 3 != 0 {
                entry.previous = PreviousScore(
                    stage: stages[index % stages.count],
                    tier: tiers[index % tiers.count],
                    pAlive: index % 5 == 0 ? nil : Double(index) / 2_357,
                    lastPurchaseAt: activity.lastPurchaseAt,
                    grid: index % 4 == 0 ? nil : "high-medium",
                    scoredAt: Date(timeIntervalSinceReferenceDate: 123_456_789.123_456 + Double(index)),
                    figuresDigest: index % 6 == 1 ? nil : Int64.min + Int64(index) * 7_919,
                    expectedPurchases90d: index % 5 == 0 ? nil : Double(index) / 977,
                    clvSimple: Double(index) * 1.25,
                    clvPredicted: index % 5 == 0 ? nil : Double(index) * 3.5
                )
            }
            if index % 2 == 0 { entry.rescored = (tiers[index % tiers.count], stages[(index + 1) % stages.count]) }
            return entry
        }
    }

    @Test("every customer reads back from the spill file as written, bit for bit, in chunks of any size")
    func spillRoundTrip() throws {
        let written = try Self.entries()
        var spill = try ScoringSpill(directory: FileManager.default.temporaryDirectory.path)
        defer { spill.close() }
        for entry in written { try spill.append(entry) }
        try spill.finishWriting()
        #expect(spill.count == written.count)
        for chunk in [1, 7, 500, 10_000] {
            var reader = try spill.reader()
            var read: [ScoringEntry] = []
            while true {
                let next = try reader.next(chunk)
                guard !next.isEmpty else { break }
                #expect(next.count <= chunk)
                read += next
            }
            #expect(read.count == written.count)
            for (back, entry) in zip(read, written) {
                #expect(back.customerID == entry.customerID)
                #expect(back.previous == entry.previous)
                #expect(back.activity == entry.activity)
                #expect(back.rescored?.tier == entry.rescored?.tier)
                #expect(back.rescored?.stage == entry.rescored?.stage)
            }
        }
    }

    @Test("a spill file in a directory that does not exist is a spill failure naming the directory")
    func spillDirectoryMissing() {
        #expect {
            _ = try ScoringSpill(directory: "/nonexistent/crm-spill")
        } throws: { error in
            (error as? ScoringError)?.code == .spillFailed && "\(error)".contains("/nonexistent/crm-spill")
        }
    }

    @Test(
        "cut-offs from the figures kept while streaming equal those from the whole base in memory",
        arguments: ValueBasis.allCases
    )
    func streamingCalibration(basis: ValueBasis) throws {
        var settings = EngineBaseModelTests.settings
        settings.tiering.valueBasis = basis
        let asOf = EngineBaseModelTests.calibrationEnd
        let activities = try EngineBaseModelTests.sampleActivities()
        var figures = BaseFigures(settings: settings, asOf: asOf)
        for activity in activities { figures.add(activity) }
        #expect(figures.customers == activities.count)
        #expect(figures.summaries == activities.compactMap(\.summary))

        var inMemory = try FullRescoring.fit(activities, settings: settings, asOf: asOf)
        var streamed = try FullRescoring.fit(
            summaries: figures.summaries,
            customers: figures.customers,
            settings: settings,
            asOf: asOf,
            requested: false,
            previous: nil,
            validation: nil,
            kinds: PurchaseModelKind.allCases
        ).model
        #expect(streamed.bgnbd?.parameters == inMemory.bgnbd?.parameters)
        #expect(streamed.customers == inMemory.customers)
        FullRescoring.calibrate(
            &inMemory,
            activities: activities,
            predictions: FullRescoring.predict(activities, model: inMemory)
        )
        FullRescoring.calibrate(&streamed, figures: figures)
        #expect(streamed.rfm == inMemory.rfm)
        #expect(streamed.tierCutoffs == inMemory.tierCutoffs)
        #expect(streamed.tierCutoffs?.gold != nil)
    }
}
