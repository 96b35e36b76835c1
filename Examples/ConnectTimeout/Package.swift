// swift-tools-version:6.0
// A user's own package, as the README shows it: TCPLab by path (in a real project: by URL).
import PackageDescription

let package = Package(
    name: "ConnectTimeout",
    dependencies: [.package(name: "TCPLab", path: "../..")],
    targets: [
        .testTarget(
            name: "ConnectTimeoutTests",
            dependencies: [
                .product(name: "TCPLab", package: "TCPLab"),
                .product(name: "TCPLabTesting", package: "TCPLab"),
            ]
        ),
    ]
)
