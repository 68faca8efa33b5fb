import EnclaveConfiguration
import Testing

/// Outside local the KMS endpoint is AWS KMS's own name, since it returns the data key (issue 31).
@Suite("KMS endpoint rule")
struct KMSEndpointTests {
    static func load(_ text: String?, local: Bool = false) -> String? {
        (try? KMSEndpoint.load(text, region: "eu-west-1", local: local))?.absoluteString
    }

    @Test("AWS names are accepted outside local; the default is the region's")
    func accepted() {
        #expect(Self.load(nil) == "https://kms.eu-west-1.amazonaws.com")
        for text in [
            "https://kms.eu-west-1.amazonaws.com", "https://KMS.eu-west-1.amazonaws.com/", "https://kms-fips.eu-west-1.amazonaws.com",
            "https://kms.eu-west-1.amazonaws.com:443", "https://vpce-0123-abcd.kms.eu-west-1.vpce.amazonaws.com",
        ] {
            #expect(Self.load(text) != nil, "\(text)")
        }
    }

    @Test("Anything else is refused outside local, naming the variable", arguments: [
        "http://kms.eu-west-1.amazonaws.com", "https://kms.us-east-1.amazonaws.com", "https://kms.eu-west-1.amazonaws.com.evil.example",
        "https://evil.example/kms.eu-west-1.amazonaws.com", "https://kms.eu-west-1.amazonaws.com@evil.example",
        "https://user@kms.eu-west-1.amazonaws.com", "https://kms.eu-west-1.amazonaws.com:8443", "https://kms.eu-west-1.amazonaws.com/x",
        "https://kms.eu-west-1.amazonaws.com/?a=b", "https://.vpce.amazonaws.com", "https://vpce.amazonaws.com", "https://127.0.0.1",
        "not a url",
    ])
    func refused(text: String) {
        do {
            _ = try KMSEndpoint.load(text, region: "eu-west-1", local: false)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.variable == "ENCLAVE_KMS_ENDPOINT")
        }
    }

    @Test("Local takes a test server")
    func local() {
        #expect(Self.load("http://127.0.0.1:9999", local: true) == "http://127.0.0.1:9999")
        #expect(Self.load("ftp://127.0.0.1", local: true) == nil)
    }
}
