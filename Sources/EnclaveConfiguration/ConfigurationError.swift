/// A violated configuration rule. Its description names the variable and the rule, never the value
/// (values may be secrets). The process prints it as one line and exits with status 78 (EX_CONFIG).
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let variable: String
    public let rule: String

    public init(_ variable: String, _ rule: String) {
        self.variable = variable
        self.rule = rule
    }

    public var description: String { "configuration error: \(variable) \(rule)" }
}
