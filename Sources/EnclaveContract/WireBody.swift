import EnclaveJSON

/// A JSON body of the contract, with both its encoder and its decoder, so the runtime and every
/// Swift client read and write it the same way. Written with `JSONWriter` in the contract's field
/// order; read with `JSONValue` (field names are the wire names, unknown fields are ignored), nil
/// when a required field is missing or of another JSON type.
public protocol WireBody: Sendable {
    init?(json: JSONValue)
    func write(to json: inout JSONWriter)
}

extension WireBody {
    public var jsonBytes: [UInt8] {
        var json = JSONWriter()
        write(to: &json)
        return json.finish()
    }

    /// The body of `bytes`, nil unless they are exactly one JSON text of this shape.
    public init?(jsonBytes bytes: [UInt8]) {
        guard let json = JSONValue(parsing: bytes) else { return nil }
        self.init(json: json)
    }
}

/// An optional field: absent or null is `.some(nil)`; another JSON type is nil (a shape error).
enum OptionalField {
    static func string(_ value: JSONValue?) -> String?? {
        switch value {
        case nil, .null?: .some(nil)
        case .string(let text)?: .some(text)
        default: nil
        }
    }

    static func integer(_ value: JSONValue?) -> Int?? {
        switch value {
        case nil, .null?: .some(nil)
        case .integer(let number)?: Int(exactly: number).map { .some($0) } ?? nil
        default: nil
        }
    }
}
