import EnclaveCrypto
import Foundation
import Testing
import TestSupport

/// The KMS recipient key through the Swift wrapper, against the `openssl cms` command as an
/// independent encoder (tools/kms/cms_for_key.py: BER, as KMS writes it) for the core's public key.
@Suite("KMS recipient key against openssl cms")
struct KMSRecipientTests {
    @Test("A ciphertext that openssl cms made for the recipient key opens; one under PKCS #1 v1.5 is refused")
    func recipient() throws {
        let recipient = try KMSRecipient()
        let spki = try recipient.publicKey()

        let dataKey = [UInt8](0..<32)
        let opened = try recipient.open(try ciphertextForRecipient(dataKey, publicKey: spki))
        #expect(opened == dataKey)
        let pkcs1 = try ciphertextForRecipient(dataKey, publicKey: spki, options: ["-outform", "DER", "-stream", "-aes-256-cbc"])
        #expect(throws: KMSRecipient.Refusal(code: 4)) { try recipient.open(pkcs1) }
    }
}

/// A CiphertextForRecipient that tools/kms/cms_for_key.py made for `publicKey` (DER
/// SubjectPublicKeyInfo); `options` replace KMS's shape.
func ciphertextForRecipient(_ plaintext: [UInt8], publicKey: [UInt8], options: [String]? = nil) throws -> [UInt8] {
    let key = temporaryDirectory() + "/recipient.der"
    FileManager.default.createFile(atPath: key, contents: Data(publicKey))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [repositoryRoot.appendingPathComponent("tools/kms/cms_for_key.py").path, key] + (options.map { ["--"] + $0 } ?? [])
    let stdin = Pipe(), stdout = Pipe()
    (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, FileHandle.nullDevice)
    try process.run()
    stdin.fileHandleForWriting.write(Data(plaintext))
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw HarnessError("cms_for_key.py failed") }
    return [UInt8](output)
}
