import EnclaveCrypto
import Foundation
import Testing

/// The Swift wrapper over the core's KMS release pieces (docs/contract.md §3b); the core itself is
/// checked against AWS's whole SigV4 suite, botocore and every CMS shape by the Python binding's tests,
/// and a ciphertext of `openssl cms` opens through this wrapper in IntegrationTests/KMSRecipientTests.
@Suite("KMS release pieces: SigV4 and the recipient key")
struct KMSReleasePiecesTests {
    @Test("SigV4: AWS's get-vanilla-with-session-token case; an invalid date is refused")
    func sigV4() throws {
        var request = SigV4Request(
            method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")], payload: [], amzDate: "20150830T123600Z",
            region: "us-east-1", service: "service", accessKeyID: "AKIDEXAMPLE",
            secretAccessKey: Array("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".utf8),
            sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")
        #expect(try request.authorization() == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
        #expect(try request.canonicalRequest().hasPrefix("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"))
        request.amzDate = "20150830"
        #expect(throws: EnclaveCryptoError.invalidArgument) { try request.authorization() }
    }

    @Test("The recipient key: a new RSA-2048 SubjectPublicKeyInfo each time; bytes that are not CMS are refused as malformed")
    func recipientKey() throws {
        let recipient = try KMSRecipient()
        let spki = try recipient.publicKey()
        let another = try KMSRecipient().publicKey()
        #expect(spki.count == 294 && spki != another)
        #expect(throws: KMSRecipient.Refusal.self) { try recipient.open(Array("not cms".utf8)) }
    }
}
