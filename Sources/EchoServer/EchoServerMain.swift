import TCPLabEcho

/// The echo-server program: its command lives in TCPLabEcho, so labs can run it in-process too.
@main
enum EchoServerMain {
    static func main() { EchoServerCommand.main() }
}
