import ArgumentParser

/// The exit codes scripts can rely on (sysexits.h where one fits).
enum Exit {
    /// The SOCKS operation failed: the decoded error was printed.
    static let operationFailed = ExitCode(1)
    /// Datagrams were sent, but no reply came within --wait-reply.
    static let noReply = ExitCode(3)
    /// EX_USAGE: bad arguments (ArgumentParser's own validation code).
    static let usage = ExitCode.validationFailure
    /// EX_NOINPUT: an input file does not exist or cannot be read.
    static let noInput = ExitCode(66)
    /// EX_DATAERR: an input file is not what it should be (a capture that is not one).
    static let dataError = ExitCode(65)
    /// EX_OSERR: a local address cannot be bound (in use, or not this machine's).
    static let cannotListen = ExitCode(71)
    /// EX_CANTCREAT: an output file cannot be created.
    static let cannotCreate = ExitCode(73)
    /// EX_CONFIG: the configuration file is broken.
    static let configuration = ExitCode(78)
}
