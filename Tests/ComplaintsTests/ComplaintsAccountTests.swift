import CRMSchema
import Complaints
import Testing

/// The broker user's permissions derive from `ServiceAccount.complaints`'s topology: it must be what the service declares.
@Suite("Complaints account")
struct ComplaintsAccountTests {
    @Test func theAccountsTopologyIsTheOneTheServiceDeclares() {
        let desks = ["billing", "general"]
        #expect(ComplaintsService.topology(desks: desks) == ServiceAccount.complaints.topology(desks: desks))
    }
}
