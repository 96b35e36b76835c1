import Hummingbird

/// GET /proxies/{name}/timeline (JSON lines) and /pcap: what the kernel did on the proxy's legs.
struct SegmentViews: Sendable {
    let registry: ProxyRegistry

    func register(on router: Router<BasicRequestContext>) {
        router.get("/proxies/:proxy/timeline") { _, context in
            await Answer.run { () throws(APIError) in
                let proxy = try registry.managed(ToxiproxyRoutes.name(context))
                return Answer.bytes(proxy.segments.timelineJSONLines(), status: .ok, contentType: "application/x-ndjson")
            }
        }
        router.get("/proxies/:proxy/pcap") { _, context in
            await Answer.run { () throws(APIError) in
                let proxy = try registry.managed(ToxiproxyRoutes.name(context))
                let bytes = proxy.segments.pcapBytes()
                return Response(status: .ok, headers: [.contentType: "application/vnd.tcpdump.pcap", .contentLength: String(bytes.count)],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
    }
}
