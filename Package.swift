// swift-tools-version:6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode and the upcoming features we rely on.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
/// W3C trace context on every message, spans per batch (swift-distributed-tracing's API; exporter chosen at start-up).
let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")

/// The shared floors, from the ground up; each names only the floors below it, so the compiler keeps the layering.
let sharedTargets: [Target] = [
    .systemLibrary(
        name: "CRabbitMQ",
        path: "Shared/CRabbitMQ",
        pkgConfig: "librabbitmq",
        providers: [.apt(["librabbitmq-dev"]), .brew(["rabbitmq-c"])]
    ),
    .systemLibrary(
        name: "CLibPQ",
        path: "Shared/CLibPQ",
        pkgConfig: "libpq",
        providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
    ),
    // Settings, durations, back-off, threads as executors, byte writers, MD5: no I/O, nothing of ours below.
    .target(name: "CRMSupport", dependencies: [lifecycle, log], path: "Shared/Support", swiftSettings: swiftSettings),
    // The message contract: every message type of the interface, its vocabulary, and the checked JSON codec.
    .target(name: "CRMContract", dependencies: ["CRMSupport"], path: "Shared/Contract", swiftSettings: swiftSettings),
    // libpq behind actors on their own threads: connections, the pool, rows, values, COPY.
    .target(
        name: "CRMPostgres",
        dependencies: ["CRMSupport", "CLibPQ", log],
        path: "Shared/Postgres",
        swiftSettings: swiftSettings
    ),
    // librabbitmq behind actors on their own threads: the topology, confirmed publishing, batched consuming.
    .target(
        name: "CRMAMQP",
        dependencies: ["CRMSupport", "CRMContract", "CRabbitMQ", log, metrics, lifecycle, tracing],
        path: "Shared/AMQP",
        swiftSettings: swiftSettings
    ),
    // The transactional outbox: written with PostgreSQL, published over AMQP.
    .target(
        name: "CRMOutbox",
        dependencies: ["CRMPostgres", "CRMAMQP", log, metrics, lifecycle, tracing],
        path: "Shared/Outbox",
        swiftSettings: swiftSettings
    ),
    // Migrations, the tables, and what each service's account may touch in the database and on the broker.
    .target(
        name: "CRMSchema",
        dependencies: ["CRMPostgres", "CRMAMQP", "CRMContract", log],
        path: "Shared/Schema",
        swiftSettings: swiftSettings
    ),
    // A service process: settings, logs, metrics, health over HTTP, consumers, the outbox, one ServiceGroup.
    .target(
        name: "CRMRuntime",
        dependencies: [
            "CRMSupport", "CRMContract", "CRMPostgres", "CRMAMQP", "CRMOutbox", "CRMSchema", log, metrics, lifecycle,
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            tracing,
            // OTLP/HTTP export of the spans, switched on by OTEL_EXPORTER_OTLP_ENDPOINT.
            .product(name: "OTel", package: "swift-otel"),
        ],
        path: "Shared/Runtime",
        swiftSettings: swiftSettings
    ),
]

/// Every shared floor a service library may build on.
let sharedFloors: [Target.Dependency] = [
    "CRMSupport", "CRMContract", "CRMPostgres", "CRMAMQP", "CRMOutbox", "CRMSchema", "CRMRuntime", log, metrics,
    lifecycle,
]

/// One service: its logic as a library, a thin executable, and the product named as the interface fixes it.
func service(
    _ name: String,
    executable: String,
    extra: [Target.Dependency] = []
) -> (targets: [Target], product: Product) {
    let targets: [Target] = [
        .target(
            name: name,
            dependencies: sharedFloors + extra,
            path: "Services/\(name)",
            exclude: ["Main"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "\(name)Main",
            dependencies: [.target(name: name), "CRMRuntime"],
            path: "Services/\(name)/Main",
            swiftSettings: swiftSettings
        ),
    ]
    return (targets, .executable(name: executable, targets: ["\(name)Main"]))
}

let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let bcrypt = Target.Dependency.product(name: "HummingbirdBcrypt", package: "hummingbird-auth")

let services = [
    service("Intake", executable: "crm-intake"),
    service("Scoring", executable: "crm-scoring"),
    service("Alerts", executable: "crm-alerts"),
    service("Complaints", executable: "crm-complaints"),
    // The web console reads what the others keep (through Scoring's queries) and serves pages with Hummingbird.
    service("Console", executable: "crm-console", extra: ["Scoring", "Alerts", "Complaints", hummingbird, bcrypt]),
]

/// A test target of pure logic: no servers, no `TestSupport`, so `swift test --skip IntegrationTests --skip SystemTests`
/// runs in seconds on a machine with neither PostgreSQL nor RabbitMQ.
func unitTests(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies, swiftSettings: swiftSettings)
}

/// A test target against the real PostgreSQL and RabbitMQ that `TestSupport` finds and isolates per test.
func integrationTests(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies + ["TestSupport"], swiftSettings: swiftSettings)
}

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

/// A benchmark (scripts/bench.sh): an executable against the servers `TestSupport` finds, whose command line is read
/// with ArgumentParser, so a misspelt flag stops it before an hour's run with the defaults (exit 64, naming the flag).
func benchmark(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name,
        dependencies: dependencies + ["TestSupport", argumentParser],
        path: "Benchmarks/\(name)",
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "crm",
    platforms: [.macOS(.v15)],
    products: services.map(\.product) + [.executable(name: "crm", targets: ["CRMCommand"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.2.0"),
        // Only the OTLP/HTTP exporter: the gRPC one would add grpc-swift to every build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.0.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: sharedTargets + services.flatMap(\.targets) + [
        .executableTarget(
            name: "CRMCommand",
            dependencies: sharedFloors + [
                "Intake", "Scoring", "Alerts", "Complaints", "Console", argumentParser,
            ],
            path: "Services/Command",
            swiftSettings: swiftSettings
        ),
        benchmark("IntakeBenchmark", ["Intake"]),
        benchmark("ScoringBenchmark", ["Scoring", "Intake"]),
        benchmark("AlertsBenchmark", ["Alerts", "Complaints", "Intake", "Scoring"]),
        benchmark("LifecycleBenchmark", ["Scoring", "Intake"]),
        benchmark("ComplaintsBenchmark", ["Complaints"]),
        benchmark("ConsoleBenchmark", ["Console", "Scoring"]),
        // Pure helpers for tests of either kind (reading back what an export wrote); no servers.
        .target(name: "TestText", path: "Tests/Text", swiftSettings: swiftSettings),
        .target(
            name: "TestSupport",
            dependencies: sharedFloors + [argumentParser],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        unitTests("SharedTests", sharedFloors),
        unitTests("IntakeTests", ["Intake"]),
        unitTests("ScoringTests", ["Scoring", "TestText"]),
        unitTests("AlertsTests", ["Alerts", log]),
        unitTests("ComplaintsTests", ["Complaints"]),
        unitTests("ConsoleTests", ["Console"]),
        integrationTests("SharedIntegrationTests", sharedFloors),
        integrationTests("IntakeIntegrationTests", ["Intake"]),
        integrationTests("ScoringIntegrationTests", ["Scoring", "Intake", "TestText"]),
        integrationTests("AlertsIntegrationTests", ["Alerts", "Scoring", "Intake", "Complaints"]),
        integrationTests("ComplaintsIntegrationTests", ["Complaints"]),
        // The web console against the real database, over HTTP and in a real headless Chromium (DevTools protocol
        // over a WebSocket, spoken with swift-nio's own WebSocket codec).
        integrationTests(
            "ConsoleIntegrationTests",
            [
                "Console", "Scoring", "Intake",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        integrationTests("SystemTests", []),
    ]
)
