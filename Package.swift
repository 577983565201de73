// swift-tools-version:6.0
//
// gobench: a benchmarking and profiling harness for the hot paths of the Go
// runtime, with faithful Swift ports of those hot paths (Go 1.19).
//
// Module boundaries (see ../shared/ARCHITECTURE.md):
//   GoRuntime      the ports; depends only on CGoRuntime and Synchronization
//   GoBenchKit     the harness; knows nothing about Go
//   GoBenchSuites  benchmark bodies; the only module that joins the two
//   gobench        the CLI, thin commands over GoBenchKit
import PackageDescription

/// Language mode 5 keeps concurrency checking to warnings: the harness hands
/// closures to raw pthreads and the ports are unsafe-pointer code whose
/// thread safety is argued in comments and checked by TSan, not by types.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v5),
]

let package = Package(
    name: "gobench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gobench", targets: ["gobench"]),
        .library(name: "GoRuntime", targets: ["GoRuntime"]),
        .library(name: "GoBenchKit", targets: ["GoBenchKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // MARK: The ports
        .target(name: "CGoRuntime"),
        .target(
            name: "GoRuntime",
            dependencies: ["CGoRuntime"],
            swiftSettings: swiftSettings
        ),
        // Writes Sources/GoRuntime/Malloc/SizeClasses.swift (runtime/mksizeclasses.go).
        .executableTarget(
            name: "mksizeclasses",
            dependencies: ["GoRuntime"],
            swiftSettings: swiftSettings
        ),

        // MARK: The harness
        .target(
            name: "CGoBench",
            linkerSettings: [.linkedLibrary("z"), .linkedLibrary("pfm")]
        ),
        .target(
            name: "GoBenchKit",
            dependencies: [
                "CGoBench",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GoBenchSuites",
            dependencies: [
                "GoRuntime", "GoBenchKit",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "gobench",
            dependencies: [
                "GoBenchKit", "GoBenchSuites",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "GoRuntimeTests",
            dependencies: ["GoRuntime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoBenchKitTests",
            dependencies: ["GoBenchKit"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoBenchSuitesTests",
            dependencies: ["GoBenchSuites", "GoBenchKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoBenchCLITests",
            dependencies: ["gobench"],
            swiftSettings: swiftSettings
        ),
    ]
)
