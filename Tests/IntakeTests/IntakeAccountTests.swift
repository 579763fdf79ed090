import CRMSchema
import Intake
import Testing

/// The broker user's permissions derive from `ServiceAccount.intake`'s topology: it must be what the service declares.
@Suite("Intake account")
struct IntakeAccountTests {
    @Test func theAccountsTopologyIsTheOneTheServiceDeclares() {
        #expect(IntakeService.topology == ServiceAccount.intake.topology(desks: []))
    }
}
