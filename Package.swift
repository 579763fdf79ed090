// swift-tools-version:6.0
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode and the upcoming features we rely on.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// One service: its logic as a library and a thin executable named as the interface fixes it.
func service(_ name: String, executable: String, extra: [Target.Dependency] = []) -> [Target] {
    [
        .target(
            name: name,
            dependencies: ["Shared"] + extra,
            path: "Services/\(name)",
            exclude: ["Main"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "\(name)Main",
            dependencies: [.target(name: name), "Shared"],
            path: "Services/\(name)/Main",
            swiftSettings: swiftSettings
        ),
    ]
}

let package = Package(
    name: "crm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crm-intake", targets: ["IntakeMain"]),
        .executable(name: "crm-scoring", targets: ["ScoringMain"]),
        .executable(name: "crm-alerts", targets: ["AlertsMain"]),
        .executable(name: "crm-complaints", targets: ["ComplaintsMain"]),
        .executable(name: "crm", targets: ["CRMCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
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
        .target(
            name: "Shared",
            dependencies: [
                "CRabbitMQ",
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/Core",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CRMCommand",
            dependencies: [
                "Shared", "Intake", "Scoring", "Alerts", "Complaints",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/Command",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "IntakeBenchmark",
            dependencies: ["Intake", "Shared", "TestSupport"],
            path: "Benchmarks/IntakeBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ScoringBenchmark",
            dependencies: ["Scoring", "Intake", "Shared", "TestSupport"],
            path: "Benchmarks/ScoringBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AlertsBenchmark",
            dependencies: ["Alerts", "Complaints", "Intake", "Scoring", "Shared", "TestSupport"],
            path: "Benchmarks/AlertsBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ComplaintsBenchmark",
            dependencies: ["Complaints", "Shared", "TestSupport"],
            path: "Benchmarks/ComplaintsBenchmark",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Shared"],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "IntakeTests", dependencies: ["Intake", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ScoringTests", dependencies: ["Scoring", "Intake", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AlertsTests", dependencies: ["Alerts", "Scoring", "Intake", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ComplaintsTests", dependencies: ["Complaints", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SystemTests", dependencies: ["Shared", "TestSupport"], swiftSettings: swiftSettings),
    ]
        + service("Intake", executable: "crm-intake")
        + service("Scoring", executable: "crm-scoring")
        + service("Alerts", executable: "crm-alerts")
        + service("Complaints", executable: "crm-complaints")
)
