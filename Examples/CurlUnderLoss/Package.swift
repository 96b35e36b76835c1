// swift-tools-version:6.0
// Testing a program TCPLab did not write (curl, against Python's http.server) under segment faults.
import PackageDescription

let package = Package(
    name: "CurlUnderLoss",
    dependencies: [.package(name: "TCPLab", path: "../..")],
    targets: [
        .testTarget(
            name: "CurlUnderLossTests",
            dependencies: [
                .product(name: "TCPLab", package: "TCPLab"),
                .product(name: "TCPLabTesting", package: "TCPLab"),
            ]
        ),
    ]
)
