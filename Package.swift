// swift-tools-version:6.0
import PackageDescription

/// Release builds of the data plane skip the runtime exclusivity checks (about a tenth
/// of the proxy's user time per request, in `perf`); debug builds, which run the tests,
/// keep them, so an overlapping access is still caught.
let dataPlane: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// Release binaries carry the Swift runtime and standard library inside them: the shared
/// libraries' relocated and scanned pages cost every process about 1.5 MiB of resident
/// memory (15.0 against 13.5 MiB idle, measured), more than the whole of an idle
/// HAProxy's lead. Debug builds, which the tests run, keep the shared libraries.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]

let package = Package(
    name: "Fulcrum",
    products: [
        .executable(name: "fulcrum", targets: ["fulcrum"]),
        .executable(name: "fulcrum-vrrp", targets: ["fulcrum-vrrp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        /// Text to sections: tokenizer, conditional blocks, file loading, diagnostics. No dependencies.
        .target(name: "HAProxyConfig"),
        /// Sections to a validated typed model: keyword tables, values, validation, legacy rewrites;
        /// sample fetches and ACLs, which read HTTP heads through FulcrumHTTP1's editor.
        .target(name: "FulcrumCore", dependencies: ["HAProxyConfig", "FulcrumHTTP1"], swiftSettings: dataPlane),
        /// HTTP/1 heads and body framing parsed in place on raw bytes, as pure values: the
        /// proxy records offsets and forwards unchanged bytes. No dependencies.
        .target(name: "FulcrumHTTP1", swiftSettings: dataPlane),
        /// Linux system calls the Glibc module leaves out (splice, pipe2, epoll, eventfd), as
        /// inline C wrappers for the splice relay.
        .target(name: "CFulcrumLinux"),
        /// Fulcrum's own event loop: one epoll set per thread, raw descriptors registered once,
        /// stream sockets and listeners without NIO channels; a NIO `EventLoop` all the same.
        .target(name: "FulcrumEventLoop", dependencies: [
            "CFulcrumLinux",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: dataPlane),
        /// The data plane: HTTP sessions on Fulcrum's own loops, TCP relays, health checks and
        /// the runtime API on NIO's.
        .target(name: "FulcrumProxy", dependencies: [
            "FulcrumCore", "FulcrumHTTP1", "CFulcrumLinux", "FulcrumEventLoop",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: dataPlane),
        /// The `fulcrum` command: flag parsing and bootstrap only.
        .executableTarget(name: "fulcrum", dependencies: ["FulcrumProxy", "FulcrumCore", "HAProxyConfig"], linkerSettings: staticStdlib),
        .testTarget(name: "HAProxyConfigTests", dependencies: ["HAProxyConfig"]),
        .testTarget(name: "FulcrumCoreTests", dependencies: ["FulcrumCore", "HAProxyConfig", "FulcrumHTTP1"]),
        .testTarget(name: "FulcrumHTTP1Tests", dependencies: ["FulcrumHTTP1"]),
        .testTarget(name: "FulcrumEventLoopTests", dependencies: [
            "FulcrumEventLoop",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "FulcrumProxyTests", dependencies: [
            "FulcrumProxy", "FulcrumCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        /// Runs the built `fulcrum` binary as a real process; `fulcrum` is a dependency so that it is built first.
        .testTarget(name: "FulcrumCLITests", dependencies: ["fulcrum", "FulcrumCore", "HAProxyConfig"]),
        /// keepalived.conf to a typed model: includes, definitions, blocks, file:line diagnostics. No dependencies.
        .target(name: "KeepalivedConfig"),
        /// VRRPv2/v3 packet codec and the pure instance state machine (manual clock, actions out).
        .target(name: "VRRP", dependencies: ["KeepalivedConfig"]),
        /// Carries out the state machine's actions: raw IP socket, rtnetlink addresses and links,
        /// gratuitous ARP, track and notify scripts, signals, one poll loop.
        .target(name: "VRRPDaemon", dependencies: ["VRRP", "KeepalivedConfig"]),
        /// The `fulcrum-vrrp` command: keepalived's flags and bootstrap only.
        .executableTarget(name: "fulcrum-vrrp", dependencies: ["VRRPDaemon", "VRRP", "KeepalivedConfig"], linkerSettings: staticStdlib),
        .testTarget(name: "KeepalivedConfigTests", dependencies: ["KeepalivedConfig"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP", "KeepalivedConfig"]),
        .testTarget(name: "VRRPDaemonTests", dependencies: ["VRRPDaemon", "VRRP"]),
        /// Runs the built `fulcrum-vrrp` in network namespaces against real keepalived peers.
        .testTarget(name: "FulcrumVRRPCLITests", dependencies: ["fulcrum-vrrp", "VRRP"]),
    ],
    swiftLanguageModes: [.v6]
)
