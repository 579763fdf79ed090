import Alerts
import CRMRuntime
import Complaints
import Console
import Foundation
import Intake
import Scoring

/// `crm` is also each service: the image ships this one binary with `crm-intake`, `crm-scoring`, `crm-alerts`,
/// `crm-complaints` and `crm-console` as links to it (one copy of the Swift runtime and Foundation instead of six). Run under a
/// service's name, it runs that service's `ServiceHost`, exactly as the service's own executable does.
enum MultiCall {
    static func runServiceNamedBy(_ path: String) async {
        switch URL(fileURLWithPath: path).lastPathComponent {
        case "crm-intake":
            await ServiceHost.run(name: "crm-intake", topology: IntakeService.topology, build: IntakeService.parts)
        case "crm-scoring":
            await ServiceHost.run(name: "crm-scoring", topology: ScoringService.topology, build: ScoringService.parts)
        case "crm-alerts":
            await ServiceHost.run(name: "crm-alerts", topology: AlertsService.topology, build: AlertsService.parts)
        case "crm-complaints":
            await ServiceHost.run(
                name: "crm-complaints",
                topology: ComplaintsService.topology,
                build: ComplaintsService.parts
            )
        case "crm-console":
            await ServiceHost.run(
                name: "crm-console",
                topology: nil,
                options: ConsoleService.hostOptions,
                build: ConsoleService.parts
            )
        default:
            return
        }
    }
}
