import CRMRuntime
import Complaints

await ServiceHost.run(name: "crm-complaints", topology: ComplaintsService.topology, build: ComplaintsService.parts)
