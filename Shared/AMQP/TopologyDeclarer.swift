/// Declares a topology on a connection: exchanges, queues with their arguments, bindings.
enum TopologyDeclarer {
    static func declare(_ topology: Topology, on connection: AMQPConnection, quorum: Bool) throws(AMQPError) {
        for exchange in topology.exchanges {
            try connection.declareExchange(exchange.name, type: exchange.type)
        }
        for (queue, _) in topology.allQueues {
            try connection.declareQueue(queue.name, arguments: Topology.arguments(for: queue, quorum: quorum))
            for binding in queue.bindings {
                try connection.bindQueue(queue.name, exchange: binding.exchange, routingKey: binding.routingKey)
            }
        }
    }
}
