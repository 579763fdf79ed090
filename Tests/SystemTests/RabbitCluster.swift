import CRMAMQP
import CRMSupport
import Foundation
import TestSupport

/// A RabbitMQ cluster of its own for one test: `nodes` nodes on loopback beside the test broker, each with its own
/// node name, ports and data folder, joined with `rabbitmqctl join_cluster`, and removed afterwards.
///
/// Only the nodes it started are ever stopped (by name, through `rabbitmqctl -n`). The nodes share the Erlang
/// cookie of the machine's RabbitMQ installation, as nodes of one host do.
final class RabbitCluster: Sendable {
    /// One node: its Erlang node name and AMQP port.
    struct Node: Sendable {
        var name: String
        var port: Int
        var folder: URL
    }

    let nodes: [Node]
    let user: String
    let password: String
    let virtualHost = "crm"

    private init(nodes: [Node], user: String, password: String) {
        self.nodes = nodes
        self.user = user
        self.password = password
    }

    /// Starts `count` nodes, joins them into one cluster, and creates a vhost and an administrator on it.
    static func start(count: Int = 3, basePort: Int = 5711) throws -> RabbitCluster {
        let run = UUID().uuidString.prefix(8).lowercased()
        let root = URL(fileURLWithPath: "/tmp/crm-cluster-\(run)")
        let nodes = (0..<count).map { index in
            Node(
                name: "crmtest\(index + 1)-\(run)@localhost",
                port: basePort + index,
                folder: root.appendingPathComponent("node\(index + 1)")
            )
        }
        let cluster = RabbitCluster(
            nodes: nodes,
            user: "crm_cluster",
            password: "cluster-\(UUID().uuidString.prefix(12))"
        )
        try Shell.run("mkdir -p '\(root.path)' && chown rabbitmq '\(root.path)'")
        do {
            // Booting is mostly waiting for Erlang: the nodes boot side by side.
            for node in nodes { try cluster.launch(node) }
            for node in nodes { try cluster.awaitStartup(node) }
            for node in nodes.dropFirst() {
                try cluster.ctl(node, "stop_app")
                try cluster.ctl(node, "join_cluster \(nodes[0].name)")
                try cluster.ctl(node, "start_app")
                try cluster.awaitStartup(node)
            }
            try cluster.ctl(nodes[0], "add_vhost \(cluster.virtualHost)")
            try cluster.ctl(nodes[0], "add_user \(cluster.user) '\(cluster.password)'")
            try cluster.ctl(nodes[0], "set_user_tags \(cluster.user) administrator")
            try cluster.ctl(nodes[0], "set_permissions -p \(cluster.virtualHost) \(cluster.user) '.*' '.*' '.*'")
        } catch {
            cluster.remove()
            throw error
        }
        return cluster
    }

    /// `CRM_AMQP_URL` naming every node, first to last.
    var url: String {
        nodes.map { "amqp://\(user):\(password)@127.0.0.1:\($0.port)/\(virtualHost)" }.joined(separator: ",")
    }

    /// Client settings for the whole cluster.
    var settings: AMQPSettings {
        get throws {
            var settings = try AMQPSettings(url: url)
            settings.quorumQueues = true
            settings.reconnectMaxDelay = .seconds(2)
            settings.connectTimeout = .seconds(3)
            return settings
        }
    }

    /// Stops node `index` (the whole Erlang node, as a machine going away would).
    func stop(_ index: Int) throws {
        try ctl(nodes[index], "stop")
    }

    /// Starts node `index` again; it rejoins the cluster from its data folder.
    func restart(_ index: Int) throws {
        try launch(nodes[index])
        try awaitStartup(nodes[index])
    }

    /// Names of the nodes running now, as the first running node sees them.
    func runningNodes() throws -> [String] {
        for node in nodes {
            if let output = try? Shell.run("rabbitmqctl -q -n \(node.name) eval 'rabbit_nodes:all_running().'") {
                return nodes.map(\.name).filter { output.contains($0) }
            }
        }
        return []
    }

    /// Stops every node it started and deletes their folders, keeping their logs in `Shell.serviceLogFolder` if set.
    func remove() {
        for node in nodes { _ = try? Shell.run("rabbitmqctl -q -n \(node.name) stop") }
        if let root = nodes.first?.folder.deletingLastPathComponent() {
            if let logs = Shell.serviceLogFolder {
                for node in nodes {
                    let kept = "\(logs)/\(node.folder.lastPathComponent)-\(root.lastPathComponent)"
                    _ = try? Shell.run("mkdir -p '\(kept)' && cp -r '\(node.folder.path)/log/.' '\(kept)/'")
                }
            }
            _ = try? Shell.run("rm -rf '\(root.path)'")
        }
    }

    // MARK: - Internals

    private func launch(_ node: Node) throws {
        let folder = node.folder.path
        let environment = [
            "RABBITMQ_NODENAME=\(node.name)", "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "RABBITMQ_NODE_PORT=\(node.port)",
            "RABBITMQ_DIST_PORT=\(node.port + 20_000)", "RABBITMQ_MNESIA_BASE=\(folder)/mnesia",
            "RABBITMQ_LOG_BASE=\(folder)/log", "RABBITMQ_PID_FILE=\(folder)/pid",
            // No plugins (the test broker keeps the management port) and no configuration file of the machine's.
            "RABBITMQ_ENABLED_PLUGINS_FILE=\(folder)/enabled_plugins", "RABBITMQ_CONFIG_FILES=\(folder)/none",
        ]
        try Shell.run(
            "mkdir -p '\(folder)' && chown rabbitmq '\(folder)' && echo '[].' > '\(folder)/enabled_plugins' && "
                + "chown rabbitmq '\(folder)/enabled_plugins' && cd /tmp && env "
                + environment.map { "'\($0)'" }.joined(separator: " ") + " rabbitmq-server -detached"
        )
    }

    /// Waits until the node answers (a node started with `-detached` registers with epmd a moment later, and
    /// `await_startup` gives up on a node it cannot see yet), then until it has booted.
    private func awaitStartup(_ node: Node) throws {
        do {
            try Shell.run(
                "for i in $(seq 1 180); do rabbitmqctl -q -n \(node.name) ping >/dev/null 2>&1 && exit 0; sleep 0.5; "
                    + "done; exit 1"
            )
            try ctl(node, "await_startup --timeout 180")
        } catch {
            let log = (try? Shell.run("tail -n 30 '\(node.folder.path)'/log/*.log")) ?? "no log"
            throw TestSetupError("node \(node.name) did not start: \(error)\n\(log)")
        }
    }

    private func ctl(_ node: Node, _ arguments: String) throws {
        try Shell.run("rabbitmqctl -q -n \(node.name) \(arguments)")
    }
}
