/// A mark an operator puts on a customer (`flags` of the customer object): `crm customer ID flag FLAG`.
///
/// Flags are the operators' word, never the models': scoring shows them, alerts raise nothing for a flagged
/// customer, and marketing events leave out `opt_out` customers.
public enum CustomerFlag: String, MessageVocabulary {
    /// Orders or identity under suspicion of fraud.
    case fraud
    /// Owes money the company does not expect to collect.
    case badDebt = "bad_debt"
    /// Asked not to be contacted for marketing.
    case optOut = "opt_out"
    /// Not worth a retention effort, whatever the figures say.
    case doNotRetain = "do_not_retain"
}
