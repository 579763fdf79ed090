import Scoring
import Shared

await ServiceHost.run(name: "crm-scoring", topology: ScoringService.topology, build: ScoringService.parts)
