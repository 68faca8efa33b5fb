import EnclaveClient
import EnclaveContract
import EnclaveFuzzing
import Foundation
import Testing
import TestSupport

/// The contract exists once in code (EnclaveContract) and once as a document (docs/openapi.yaml):
/// these tests hold the two to each other, and every place that must know each RPC to the table,
/// so adding an RPC without its spec, fuzz oracle entry or client method fails here.
@Suite("The contract's tables: code, OpenAPI document, fuzzer, oracle, client")
struct ContractTableTests {
    static let spec = (try? String(contentsOf: repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)) ?? ""

    /// (method, path, operationId) of every operation under `paths:`.
    static func specOperations() -> Set<String> {
        var operations: Set<String> = []
        var inPaths = false, path = "", method = ""
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, !line.isEmpty, !line.hasPrefix(" "), !line.hasPrefix("#") { inPaths = false }
            guard inPaths else { continue }
            let text = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("  /") && !line.hasPrefix("   ") { path = String(text.dropLast()) }
            if ["    get:", "    post:"].contains(line) { method = text.dropLast().uppercased() }
            if text.hasPrefix("operationId: ") { operations.insert("\(method) \(path) \(text.dropFirst(13))") }
        }
        return operations
    }

    /// The `x-error-codes` table: code -> (status, retryable).
    static func specErrorTable() -> [String: (Int, Bool)] {
        var table: [String: (Int, Bool)] = [:]
        var inTable = false
        for line in spec.split(separator: "\n") {
            if line.hasPrefix("x-error-codes:") { inTable = true; continue }
            if inTable, !line.hasPrefix("  ") { break }
            guard inTable, let colon = line.firstIndex(of: ":") else { continue }
            let code = line[..<colon].trimmingCharacters(in: .whitespaces)
            let fields = line[colon...]
            guard let status = fields.firstMatch(of: /status: (\d+)/).flatMap({ Int($0.1) }),
                let retryable = fields.firstMatch(of: /retryable: (true|false)/).map({ $0.1 == "true" })
            else { continue }
            table[code] = (status, retryable)
        }
        return table
    }

    /// The codes the error envelope's schema allows.
    static func specEnvelopeCodes() -> Set<String> {
        guard let start = spec.range(of: "enum: [missing_request_header") else { return [] }
        let list = spec[start.lowerBound...].dropFirst(7).prefix { $0 != "]" }
        return Set(list.split(whereSeparator: { ", \n".contains($0) }).map(String.init))
    }

    @Test("Every route of EnclaveContract is in docs/openapi.yaml with its method and operation id, and nothing else is")
    func routes() {
        let code = Set(ContractRoute.all.map { "\($0.method.rawValue) \($0.path) \($0.operationID)" })
        #expect(!Self.spec.isEmpty)
        #expect(code == Self.specOperations())
    }

    @Test("The error table: every code with its status and retryable flag, the same in code and in the document")
    func errorTable() {
        let spec = Self.specErrorTable()
        #expect(spec.count == RPCErrorCode.allCases.count)
        for code in RPCErrorCode.allCases {
            let row = spec[code.rawValue]
            #expect(row?.0 == code.status && row?.1 == code.retryable, "\(code.rawValue): spec \(String(describing: row))")
        }
        #expect(Self.specEnvelopeCodes() == Set(RPCErrorCode.allCases.map(\.rawValue)))
        // provider_failed is retryable by the provider's status.
        #expect(RPCErrorCode.providerFailed.isRetryable(providerStatus: 503) && !RPCErrorCode.providerFailed.isRetryable(providerStatus: 400))
    }

    @Test("Every signed RPC has its client method, its fuzzer path and its oracle entry; every route is fuzzed")
    func everyRPCIsCovered() {
        let rpcs = Set(ContractRoute.all.filter(\.isSignedRPC).map(\.path))
        #expect(Set(EnclaveRPCClient.routes.map(\.path)) == rpcs, "EnclaveRPCClient has a method per signed RPC")
        #expect(Set(ResponseOracle.idFields.keys) == rpcs, "the fuzz oracle knows each RPC's ids")
        #expect(Set(ContractRoute.all.map(\.path)).isSubset(of: Set(RequestPathFuzzing.paths)), "the fuzzer drives every route")
    }
}
