import Alerts
import CRMSchema
import Testing

/// The broker user's permissions derive from `ServiceAccount.alerts`'s topology: it must be what the service declares.
@Suite("Alerts account")
struct AlertsAccountTests {
    @Test func theAccountsTopologyIsTheOneTheServiceDeclares() {
        #expect(AlertsService.topology == ServiceAccount.alerts.topology(desks: []))
    }
}
