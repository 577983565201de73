// Mirrors runtime/panic.go `throw` and `fatal`: an unrecoverable runtime
// error. Go prints "fatal error: <msg>" and exits with status 2; so do we.
// Nothing is unwound and no Swift error escapes: the misuse cases that reach
// here (unlocking an unlocked mutex, concurrent map writes, stack overflow)
// leave the data structure in a state no caller could repair.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops the process the way Go's runtime `throw` does.
///
/// The message goes to standard error as `fatal error: <message>`, then the
/// process exits with status 2 without running atexit handlers.
@inline(never)
public func goFatal(_ message: String) -> Never {
    let line = "fatal error: \(message)\n"
    line.utf8CString.withUnsafeBufferPointer { buf in
        _ = write(2, buf.baseAddress, buf.count - 1)
    }
    _exit(2)
}

/// Stops the process the way an unrecovered Go `panic` does: the message
/// goes to standard error as `panic: <message>`, then exit status 2.
@inline(never)
public func goPanic(_ message: String) -> Never {
    let line = "panic: \(message)\n"
    line.utf8CString.withUnsafeBufferPointer { buf in
        _ = write(2, buf.baseAddress, buf.count - 1)
    }
    _exit(2)
}
