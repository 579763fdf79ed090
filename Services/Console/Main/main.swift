import CRMRuntime
import Console

await ServiceHost.run(
    name: "crm-console",
    topology: nil,
    options: ConsoleService.hostOptions,
    build: ConsoleService.parts
)
