import TCPLabEcho

/// The echo-client program: its command lives in TCPLabEcho, so labs can run it in-process too.
@main
enum EchoClientMain {
    static func main() { EchoClientCommand.main() }
}
