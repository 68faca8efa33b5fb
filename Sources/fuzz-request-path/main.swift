// libFuzzer entry point over the server's request path (see EnclaveFuzzing.RequestPathFuzzing).
// Build: scripts/fuzz.sh (swift build --sanitize fuzzer --sanitize address ...).
import EnclaveFuzzing
import Foundation

let harness: RequestPathFuzzing = {
    do { return try RequestPathFuzzing() } catch { fatalError("cannot start the fuzz harness: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let violation = harness.checkBlocking(input) {
        FileHandle.standardError.write(Data("property violated: \(violation)\n".utf8))
        abort()  // libFuzzer saves the input as a crash artifact
    }
    return 0
}
