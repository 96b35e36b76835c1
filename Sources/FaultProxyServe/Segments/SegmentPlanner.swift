import TCPLabFault
import TCPLabSystem

/// Turns a proxy's segment toxics into FaultPlans, one per leg (and per `from`) in use: the
/// client leg is the proxy's listen port, the upstream leg its upstream's port. The toxic's
/// attributes become the CLI's spec text (`synack:2`, `data=50ms~5ms`) and go through the CLI's
/// own parsers, so the API and `faultproxy --drop` accept and refuse the same things.
enum SegmentPlanner {
    struct Key: Hashable {
        var leg: String
        var from: Endpoint?
    }

    /// The CLI spelling of one segment toxic, e.g. `synack:2`, `data@3`, `syn%0.5`, `data:4=50ms~5ms`.
    static func spec(_ toxic: Toxic) -> String {
        let attributes = toxic.attributes
        var text = attributes.string("segment")
        if attributes.integer("count") > 0 {
            text += ":\(attributes.integer("count"))"
        } else if attributes.integer("nth") > 0 {
            text += "@\(attributes.integer("nth"))"
        } else if toxic.type == .drop, attributes.float("probability") > 0 {
            text += "%\(attributes.float("probability"))"
        }
        switch toxic.type {
        case .delay:
            text += "=\(attributes.integer("delay"))ms"
            if attributes.integer("jitter") > 0 { text += "~\(attributes.integer("jitter"))ms" }
        case .duplicate:
            text += "=\(attributes.integer("delay"))ms"
        default: break
        }
        return text
    }

    static func validate(_ toxic: Toxic) throws(APIError) {
        let attributes = toxic.attributes
        guard !attributes.string("segment").isEmpty else { throw .missingField("attributes.segment (one of \(SegmentKind.validNames))") }
        guard ["client", "upstream"].contains(attributes.string("leg")) else {
            throw APIError(400, "attributes.leg must be client or upstream, got \(attributes.string("leg"))")
        }
        let from = attributes.string("from")
        guard from.isEmpty || Endpoint(rawValue: from) != nil else {
            throw APIError(400, "attributes.from must be client, server or empty, got \(from)")
        }
        _ = try plans([toxic], listenPort: 1, upstreamPort: 1, logGroup: 1, tableBase: "check")
    }

    /// The plans for `toxics` (segment toxics only); nil ports mean that leg has no port yet.
    static func plans(_ toxics: [Toxic], listenPort: UInt16?, upstreamPort: UInt16?, logGroup: UInt16,
                      tableBase: String) throws(APIError) -> [Key: FaultPlan] {
        var grouped: [Key: [Toxic]] = [:]
        for toxic in toxics where toxic.type.isSegmentToxic && toxic.toxicity > 0 {
            let from = Endpoint(rawValue: toxic.attributes.string("from"))
            grouped[Key(leg: toxic.attributes.string("leg"), from: from), default: []].append(toxic)
        }
        var plans: [Key: FaultPlan] = [:]
        for (index, (key, members)) in grouped.sorted(by: { "\($0.key)" < "\($1.key)" }).enumerated() {
            guard let port = key.leg == "upstream" ? upstreamPort : listenPort else { continue }
            do throws(FaultSpecError) {
                var plan = FaultPlan(port: port, from: key.from, logGroup: logGroup + UInt16(index),
                                     tableName: "\(tableBase)_\(index)")
                for toxic in members {
                    switch toxic.type {
                    case .drop: plan.drops.append(try DropSpec(parsing: spec(toxic)))
                    case .delay: plan.delays.append(try DelaySpec(parsing: spec(toxic)))
                    default: plan.duplicates.append(try DuplicateSpec(parsing: spec(toxic)))
                    }
                }
                try plan.validate()
                plans[key] = plan
            } catch {
                throw APIError(400, "\(error)")
            }
        }
        return plans
    }
}
