/// The two SLA targets a complaint is measured against.
public enum SLATarget: String, MessageVocabulary {
    /// From receipt to the first response (`acknowledged`, or `resolved` without one).
    case firstResponse = "first_response"
    /// From receipt to resolution, not counting time spent resolved before a reopen.
    case resolution
}
