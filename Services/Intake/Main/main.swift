import Intake
import Shared

await ServiceHost.run(name: "crm-intake", topology: IntakeService.topology, build: IntakeService.parts)
