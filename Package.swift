// swift-tools-version:6.0
//
// gobench: a benchmarking and profiling harness for the hot paths of the Go
// runtime, with faithful Swift ports of those hot paths (Go 1.19).
//
// Module boundaries (see ../shared/ARCHITECTURE.md):
//   GoRuntime         the ports; depends only on CGoRuntime and Synchronization
//   GoBenchKit        the harness; knows nothing about Go (a reference
//                     implementation plugs in through ReferenceSuite)
//   GoBenchReference  Go 1.19's own benchmarks (suites/go) as a ReferenceSuite,
//                     and the side-by-side statistics; depends on GoBenchKit
//   GoBenchSuites     benchmark bodies; the only module that joins GoRuntime
//                     and GoBenchKit
//   gobench           the CLI, thin commands that wire the modules together
import Foundation
import PackageDescription

/// Language mode 5 keeps concurrency checking to warnings: the harness hands
/// closures to raw pthreads and the ports are unsafe-pointer code whose
/// thread safety is argued in comments and checked by TSan, not by types.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v5),
]

#if arch(x86_64)
let aesFlags = ["-Xcc", "-maes"]
#else
let aesFlags: [String] = []
#endif

/// For the code that is measured (the ports and the benchmark bodies): every
/// function starts on a 64-byte boundary, so that a hot loop's alignment
/// against cache lines and fetch windows is a property of its own function,
/// not of the size of whatever the linker placed before it. Without it an
/// unrelated change moved an identical map/access/hit/n=8 closure 16 bytes
/// off a 64-byte boundary and its time from 6.0 to 7.1 ns.
///
/// On x86-64 they may also use AES instructions (-Xcc -maes), so that the
/// map's inline aeshash64 (CGoRuntimeHash.h) inlines into Swift code
/// instead of being called; nothing emits AES instructions unasked, and the
/// hash only runs them where CPUID found AES (cgort_use_aeshash).
///
/// -experimental-serialize-debug-info keeps source locations in the SIL that
/// GoRuntime serializes for cross-module specialization, so that a HashMap
/// getter inlined into a benchmark closure still has its file and lines in
/// DWARF (profiles show them; without it the inlined body is line 0,
/// "<compiler-generated>"). It is experimental and not free of codegen
/// effects: of 12,118 functions of the release gobench, 3 changed size
/// (the String-keyed map assign and delete closures and
/// HashMap._assignOutlined<String, Int64>); every function kept its address.
let measuredCodeSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-Xllvm", "-align-all-functions=6", "-Xfrontend", "-experimental-serialize-debug-info"] + aesFlags),
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
        // The results store (GoBenchHistory): SQLite by default, PostgreSQL for a fleet.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: The ports
        .target(name: "CGoRuntime"),
        .target(
            name: "GoRuntime",
            dependencies: ["CGoRuntime"],
            swiftSettings: measuredCodeSettings
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
        // Counts malloc-family calls per thread: defines malloc & co. in
        // every executable that links it (CGoBenchAlloc.h says why ours).
        // -fno-plt: an override that is not counting tail-jumps straight
        // into glibc through the GOT, without a PLT stub.
        .target(name: "CGoBenchAlloc", cSettings: [.unsafeFlags(["-fno-plt"])]),
        .target(
            name: "GoBenchKit",
            dependencies: [
                "CGoBench", "CGoBenchAlloc",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GoBenchReference",
            dependencies: ["GoBenchKit"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GoBenchSuites",
            dependencies: [
                "GoRuntime", "GoBenchKit",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: measuredCodeSettings
        ),
        // The results store, change points and export: its own module so
        // that the harness's tests do not build GRDB and postgres-nio.
        .target(
            name: "GoBenchHistory",
            dependencies: [
                "GoBenchKit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "gobench",
            dependencies: [
                "GoBenchKit", "GoBenchReference", "GoBenchSuites", "GoBenchHistory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "GoBenchTestSupport",
            path: "Tests/GoBenchTestSupport",
            swiftSettings: swiftSettings
        ),
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
            name: "GoBenchReferenceTests",
            dependencies: ["GoBenchReference", "GoBenchKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoBenchSuitesTests",
            dependencies: ["GoBenchSuites", "GoBenchKit", "GoBenchReference"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoBenchHistoryTests",
            // gobench itself: the tests run two real processes writing at once.
            dependencies: ["GoBenchHistory", "GoBenchKit", "gobench", "GoBenchTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoBenchCLITests",
            dependencies: ["gobench", "GoBenchTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

// scripts/test's thread-sanitizer pass runs only the ports' tests
// (GoRuntimeTests). With GOBENCH_PORTS_ONLY=1 the package is only the ports
// and those tests, so that pass builds neither the harness nor GRDB and
// postgres-nio (minutes each) under TSan.
if ProcessInfo.processInfo.environment["GOBENCH_PORTS_ONLY"] == "1" {
    let ports: Set<String> = ["CGoRuntime", "GoRuntime", "GoRuntimeTests"]
    package.targets = package.targets.filter { ports.contains($0.name) }
    package.products = package.products.filter { $0.name == "GoRuntime" }
    package.dependencies = []
}
