import EnclaveCrypto
import Foundation
import Testing

/// The KMS recipient key through the Swift wrapper, against the `openssl cms` command as an
/// independent encoder (BER, as KMS writes it), for a certificate carrying the core's public key.
@Suite("KMS recipient key against openssl cms")
struct KMSRecipientTests {
    @Test("A ciphertext that openssl cms made for the recipient key opens; one under PKCS #1 v1.5 is refused")
    func recipient() throws {
        let recipient = try KMSRecipient()
        let spki = try recipient.publicKey()

        let directory = NSTemporaryDirectory() + "kms-recipient-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func openssl(_ arguments: [String], input: [UInt8] = []) throws -> [UInt8] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            let stdin = Pipe(), stdout = Pipe()
            (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, FileHandle.nullDevice)
            try process.run()
            stdin.fileHandleForWriting.write(Data(input))
            try stdin.fileHandleForWriting.close()
            let output = stdout.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " "))")
            return [UInt8](output)
        }
        let path = { (name: String) in directory + "/" + name }
        FileManager.default.createFile(atPath: path("pub.pem"), contents: Data(try openssl(["pkey", "-pubin", "-inform", "DER"], input: spki)))
        _ = try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-subj", "/CN=ca", "-days", "1"])
        _ = try openssl(["req", "-new", "-key", path("ca.key"), "-subj", "/CN=r", "-out", path("csr.pem")])
        _ = try openssl([
            "x509", "-req", "-in", path("csr.pem"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial", "-force_pubkey",
            path("pub.pem"), "-days", "1", "-out", path("cert.pem"),
        ])
        let dataKey = [UInt8](0..<32)
        let encrypt = ["cms", "-encrypt", "-binary", "-outform", "DER", "-stream", "-aes-256-cbc", "-recip", path("cert.pem")]
        let oaep = ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"]
        let opened = try recipient.open(try openssl(encrypt + oaep, input: dataKey))
        #expect(opened == dataKey)
        #expect(throws: KMSRecipient.Refusal.self) { try recipient.open(try openssl(encrypt, input: dataKey)) }  // PKCS #1 v1.5
    }
}
