// The harness's errors: each says in one line what went wrong, and its
// kind decides the exit status in one place (the CLI's `reportingErrors`).
// All of them are bad input or a broken environment, exit 1; a regression
// verdict (exit 2) is a result, not an error.

/// An error the CLI prints as "gobench: <description>" and exits with 1.
public protocol OneLineError: Error, CustomStringConvertible {}

/// A malformed input file or value: a CSV, Go text, TOML or JSON that does
/// not parse, a NaN, an unknown kind.
public struct FormatError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A bad selection or option: an unknown benchmark, counter or suite, a
/// pattern that matches nothing, a flag value out of range.
public struct SelectionError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reading or writing a file failed: missing, unreadable, a rename that
/// did not happen.
public struct InputError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A tool the command needs is not installed (Go, valgrind, git).
public struct ToolchainError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Building a revision for `ab` failed.
public struct BuildError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A worker process crashed, hung or broke the protocol.
public struct WorkerError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Two result sets from different machines, judged without
/// --cross-machine.
public struct MachineMismatchError: OneLineError {
    public let description: String
    public init(_ description: String) { self.description = description }
}
