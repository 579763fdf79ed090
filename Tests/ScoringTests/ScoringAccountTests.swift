import CRMSchema
import Scoring
import Testing

/// The broker user's permissions derive from `ServiceAccount.scoring`'s topology: it must be what the service declares.
@Suite("Scoring account")
struct ScoringAccountTests {
    @Test func theAccountsTopologyIsTheOneTheServiceDeclares() {
        #expect(ScoringService.topology == ServiceAccount.scoring.topology(desks: []))
    }
}
