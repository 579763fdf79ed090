import CRMRuntime
import Scoring

await ServiceHost.run(name: "crm-scoring", topology: ScoringService.topology, build: ScoringService.parts)
