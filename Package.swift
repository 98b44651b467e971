// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Fulcrum",
    products: [
        .executable(name: "fulcrum", targets: ["fulcrum"]),
    ],
    targets: [
        /// Text to sections: tokenizer, conditional blocks, file loading, diagnostics. No dependencies.
        .target(name: "HAProxyConfig"),
        /// Sections to a validated typed model: keyword tables, values, validation, legacy rewrites.
        .target(name: "FulcrumCore", dependencies: ["HAProxyConfig"]),
        /// The `fulcrum` command: flag parsing and bootstrap only.
        .executableTarget(name: "fulcrum", dependencies: ["FulcrumCore", "HAProxyConfig"]),
        .testTarget(name: "HAProxyConfigTests", dependencies: ["HAProxyConfig"]),
        .testTarget(name: "FulcrumCoreTests", dependencies: ["FulcrumCore", "HAProxyConfig"]),
        /// Runs the built `fulcrum` binary as a real process; `fulcrum` is a dependency so that it is built first.
        .testTarget(name: "FulcrumCLITests", dependencies: ["fulcrum", "FulcrumCore", "HAProxyConfig"]),
    ],
    swiftLanguageModes: [.v6]
)
