/// A desk's update on a complaint (`status` of complaint-status.v1), and what the SLA clocks are fed with.
public enum ComplaintStatus: String, MessageVocabulary {
    /// A person has taken it: the first-response clock stops (its SLA is met).
    case acknowledged
    /// Closed: both clocks stop.
    case resolved
    /// The customer came back: the resolution clock runs again from where it stopped.
    case reopened
}
