import Alerts
import CRMRuntime

await ServiceHost.run(name: "crm-alerts", topology: AlertsService.topology, build: AlertsService.parts)
