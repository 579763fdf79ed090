/// The database schema, as the ordered list of migrations `crm migrate` applies.
///
/// Append new migrations; never edit one that has shipped (the migrator refuses changed checksums).
public enum Schema {
    public static let migrations: [Migration] = [
        foundation,
        intake,
        scoring,
        complaints,
        alerts,
        privileges,
        instancePrivileges,
        outboxLeases,
        scoreModelReference,
        orderCustomerReference,
        outboxBodyCompression,
        customerChangesWaitForOrders,
        segments,
        purchaseModels,
        hardening,
        operations,
        console,
        consoleListIndexes,
        retentionOutcomes,
        customerRegistrations,
        lifecycleAnnouncements,
        satisfaction,
        valueQuantiles,
        customerActivity,
        scoresUpdatedInPlace,
        unannouncedStages,
        activityOfEveryCustomer,
        keptScores,
        packedPurchaseDays,
    ]
}
