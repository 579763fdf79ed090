import CRMAMQP
import CRMContract
import CRMSchema
import CRMSupport
import Foundation
import TestSupport
import Testing

extension SystemTests {
    /// Senders choose member names, never metric labels: dead letters are counted by a closed set of reason codes.
    @Suite("Metric labels", .serialized)
    struct MetricLabelTests {
        @Test func threeHundredHostileMessagesMakeABoundedNumberOfSeries() async throws {
            try await TestServers.withEnvironment(migrate: true) { environment in
                let publisher = AMQPPublisher(
                    settings: environment.amqp,
                    name: "test",
                    topology: Topology.system(desks: []),
                    logger: TestServers.logger
                )
                try await publisher.connect()
                let port = TestPorts.unused()
                var variables = environment.serviceVariables
                variables["CRM_HTTP_PORT"] = "\(port)"
                let intake = try Shell.launch("crm-intake", environment: variables)
                defer { if intake.isRunning { intake.terminate() } }
                // Each with a member name of its own, rejected in ways whose reasons name members: a duplicate key, at
                // the top or nested, and a wrong type.
                let bodies = (0..<300).map { index -> Data in
                    let name = "m\(index)_\(UUID().uuidString.prefix(8))"
                    switch index % 3 {
                    case 0:
                        return Data(#"{"schema":"order.v1","\#(name)":1,"\#(name)":2}"#.utf8)
                    case 1:
                        return Data(#"{"schema":"order.v1","\#(name)":{"\#(name)":[1],"\#(name)":[2]}}"#.utf8)
                    default:
                        return Data(#"{"schema":"order.v1","order_id":{"\#(name)":true}}"#.utf8)
                    }
                }
                try await publisher.publish(
                    bodies.map { OutboundMessage(exchange: Topology.ordersExchange, routingKey: "order.v1", body: $0) }
                )
                let drained = try await eventually(.seconds(60)) {
                    let dead = try await publisher.inspectQueue("intake.orders.dead").messages
                    let waiting = try await publisher.inspectQueue("intake.orders").messages
                    return dead == 300 && waiting == 0
                }
                #expect(drained)
                let metrics = Shell.get("http://127.0.0.1:\(port)/metrics")
                #expect(metrics.status == 200)
                let series = metrics.body.split(separator: "\n").filter {
                    $0.hasPrefix("crm_amqp_dead_lettered_total{")
                }
                // One series per code and consuming queue at most, whatever the senders invent.
                let bound = MessageRejection.Code.allCases.count * ServiceAccount.intake.consumes.count
                #expect(series.count <= bound, "\(series.count) series")
                #expect(!series.isEmpty)
                #expect(!metrics.body.contains("m1_"), "a sender's member name became a label")
                let codes = Set(MessageRejection.Code.allCases.map(\.rawValue))
                for line in series {
                    let reason = line.split(separator: "reason=\"").last?.prefix { $0 != "\"" }
                    #expect(reason.map { codes.contains(String($0)) } == true, "\(line)")
                }
                await publisher.close()
            }
        }
    }
}
