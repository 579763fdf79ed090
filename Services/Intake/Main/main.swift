import CRMRuntime
import Intake

await ServiceHost.run(name: "crm-intake", topology: IntakeService.topology, build: IntakeService.parts)
