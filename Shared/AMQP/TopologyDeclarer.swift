/// Declares a topology on a connection (exchanges, queues with their arguments, bindings), or checks that it exists.
enum TopologyDeclarer {
    static func apply(
        _ topology: Topology,
        _ action: Topology.Action,
        on connection: AMQPConnection,
        quorum: Bool
    ) throws(AMQPError) {
        switch action {
        case .declare: try declare(topology, on: connection, quorum: quorum)
        case .verify: try verify(topology, on: connection)
        }
    }

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

    /// Passive declares of every exchange and queue: they need no permission, so a service's user can be kept from
    /// creating, changing or deleting anything. The first one missing closes the channel with reply 404.
    static func verify(_ topology: Topology, on connection: AMQPConnection) throws(AMQPError) {
        do {
            for exchange in topology.exchanges {
                try connection.checkExchange(exchange.name)
            }
            for (queue, _) in topology.allQueues {
                _ = try connection.inspectQueue(queue.name)
            }
        } catch  where error.replyCode == 404 {
            var missing = error
            missing.detail += " (the broker topology is declared by `crm migrate`)"
            throw missing
        }
    }
}
