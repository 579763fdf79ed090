/// Where a customer stands in the relationship (`lifecycle_stage`), as scoring decides it, stores it and publishes it.
///
/// The stages follow the customer lifecycle of the CRM literature; docs/scoring.md gives the rule behind each.
public enum LifecycleStage: String, MessageVocabulary {
    /// Known to us, never bought.
    case potential
    /// Bought once, not yet a repeat.
    case development
    /// Repeat buyer whose value is rising, or too new to have a trend.
    case growth
    /// Repeat buyer with stable activity and a high share of value.
    case maturity
    /// Buying less, spending less or likely slipping away, against their own history.
    case decline
    /// Most likely gone: p_alive very low, or silent far beyond their own rhythm.
    case termination
    /// Bought again after termination.
    case recovery
}
