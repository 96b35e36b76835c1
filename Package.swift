// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TCPLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "echo-server", targets: ["EchoServer"]),
        .executable(name: "echo-client", targets: ["EchoClient"]),
        .executable(name: "faultproxy", targets: ["FaultProxy"]),
        .executable(name: "tcplab", targets: ["TCPLabCLI"]),
        .executable(name: "tcplab-bench", targets: ["TCPLabBench"]),
        .executable(name: "tcplab-docker-judge", targets: ["DockerJudge"]),
        // What other projects' integration tests import to set up labs and assert kernel timings.
        .library(name: "TCPLab", targets: ["TCPLab"]),
        // Swift Testing's side: the `.tcpLab()` trait and expectations that attach the evidence.
        .library(name: "TCPLabTesting", targets: ["TCPLabTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        // `faultproxy serve` only (the FaultProxyServe target): the TCPLab library never links these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `swift package generate-documentation --target TCPLab` (the DocC catalog in Sources/TCPLab).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // libnftnl + libmnl as they are installed by Debian's -dev packages.
        .systemLibrary(
            name: "CNetfilter",
            pkgConfig: "libnftnl libmnl",
            providers: [.apt(["libnftnl-dev", "libmnl-dev"])]
        ),
        // The macros and inline functions Swift cannot import (NLMSG_*, mnl_attr_for_each, ...).
        .target(name: "CTCPLabShim"),

        // What crosses a process boundary as JSON (timeline lines, echo-server events, echo-client's
        // report, faultproxy's drop and delay reports) and the segment vocabulary they carry.
        // Pure: Foundation at most; the writer and the reader share these types.
        .target(name: "TCPLabSchema"),

        // The nftables rule model as plain values (tables, chains on any hook, rules, expressions,
        // counters): what the planning module builds and TCPLabNetlink translates for libnftnl.
        .target(name: "TCPLabRules"),

        // Syscalls over Glibc: sockets, epoll, namespaces, signals, TCP_INFO. One entry point per call.
        .target(
            name: "TCPLabSystem",
            dependencies: [
                "CTCPLabShim", "TCPLabSchema",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Netlink transport: nftables batches (libnftnl + libmnl), nfnetlink_log, sock_diag.
        .target(
            name: "TCPLabNetlink",
            dependencies: ["CNetfilter", "CTCPLabShim", "TCPLabSystem", "TCPLabRules"]
        ),
        // The drop/delay/duplicate spec and its translation into nftables rules (the rule model
        // and nft syntax). Pure: no Glibc, libnftnl or system calls.
        .target(
            name: "TCPLabFault",
            dependencies: ["TCPLabSchema", "TCPLabRules"]
        ),
        // Packet parsing, the segment timeline, socket states, pcap and the ladder view.
        .target(
            name: "TCPLabObserve",
            dependencies: ["TCPLabSchema", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault"]
        ),
        // The kernel's timing model (schedules from sysctls) and the one judge of observed times.
        // Pure: Foundation at most, no system calls, so the Docker judge and tests share it.
        .target(name: "TCPLabModel"),
        // A fault run: the table installed, the relay, delays and duplicates through NFQUEUE, the
        // timeline; what faultproxy runs on its one thread and the library on a thread of its own.
        .target(
            name: "TCPLabProxy",
            dependencies: [
                "CTCPLabShim", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // The library for labs and for other projects' tests.
        .target(
            name: "TCPLab",
            dependencies: ["TCPLabModel", "TCPLabSchema", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve", "TCPLabProxy", "TCPLabEcho"]
        ),

        // `@Test(.tcpLab())`: a lab around a Swift Testing test, evidence attached on failure.
        .target(name: "TCPLabTesting", dependencies: ["TCPLab", "TCPLabFault"]),

        // What every executable shares on its command line: argument types, option groups, exit codes.
        .target(
            name: "TCPLabCommandSupport",
            dependencies: ["TCPLabSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // The lab peers: echo-server and echo-client, as commands the executables run and labs
        // run in-process on a thread inside a namespace.
        .target(
            name: "TCPLabEcho",
            dependencies: [
                "TCPLabSchema", "TCPLabSystem", "TCPLabCommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .executableTarget(name: "EchoServer", dependencies: ["TCPLabEcho"]),
        .executableTarget(name: "EchoClient", dependencies: ["TCPLabEcho"]),
        // `faultproxy serve`: toxiproxy's HTTP API (Hummingbird), its toxics in a userspace relay,
        // and segment toxics as nftables rules on each proxy's legs.
        .target(
            name: "FaultProxyServe",
            dependencies: [
                "CTCPLabShim", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve", "TCPLabProxy",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FaultProxy",
            dependencies: [
                "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve", "TCPLabProxy", "TCPLabCommandSupport", "FaultProxyServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "TCPLabCLI",
            dependencies: [
                "TCPLab", "TCPLabCommandSupport", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The verdict of a docker-compose lab whose pieces ran in separate containers (Docker/compose).
        .executableTarget(
            name: "DockerJudge",
            dependencies: ["TCPLabModel", "TCPLab", "TCPLabSchema", "TCPLabNetlink", "TCPLabObserve", "TCPLabSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Docker/Judge"
        ),
        // The benchmark suite's measuring programs (scripts/bench orchestrates them).
        .executableTarget(
            name: "TCPLabBench",
            dependencies: [
                "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        .testTarget(
            name: "TCPLabUnitTests",
            dependencies: ["TCPLabModel", "TCPLabSchema", "TCPLabRules", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve", "TCPLab", "TCPLabCommandSupport", "TCPLabProxy"]
        ),
        // `faultproxy serve` without sockets: the toxic chain, toxiproxy's bytes, Go's error wording.
        .testTarget(
            name: "FaultProxyServeUnitTests",
            dependencies: ["FaultProxyServe"]
        ),
        // The docker-compose judge's parsing and verdicts (no root, no Docker).
        .testTarget(
            name: "DockerJudgeTests",
            dependencies: ["DockerJudge", "TCPLabSchema"],
            path: "Docker/JudgeTests"
        ),
        // Root + network namespaces; each test skips with a clear message without CAP_NET_ADMIN.
        .testTarget(
            name: "TCPLabIntegrationTests",
            dependencies: ["TCPLabModel", "TCPLabSystem", "TCPLabNetlink", "TCPLabFault", "TCPLabObserve", "TCPLab", "TCPLabTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
