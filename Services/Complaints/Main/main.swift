import Complaints
import Shared

await ServiceHost.run(name: "crm-complaints", topology: ComplaintsService.topology, build: ComplaintsService.parts)
