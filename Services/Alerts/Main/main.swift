import Alerts
import Shared

await ServiceHost.run(name: "crm-alerts", topology: AlertsService.topology, build: AlertsService.parts)
