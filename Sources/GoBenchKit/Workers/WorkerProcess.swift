// The parent's side of the worker protocol: start `<executable> worker`,
// hand it the spec, collect its messages, and say plainly what went wrong
// when it crashed, hung or broke the protocol.
//
// Both pipes are drained on their own threads while this one waits with a
// deadline, so a child that fills a pipe cannot block, and one that hangs
// is killed (SIGKILL) when its time is up.

import Foundation

public struct WorkerOutcome: Sendable {
    public var results: [RepetitionResult]
    public var calibrated: [String: Int]
    /// The answer to a spec with a listPattern.
    public var listed: [String] = []
    /// Lines the child wrote on standard error (warnings).
    public var stderrLines: [String]
}

public enum WorkerProcess {
    /// Runs one worker to completion. Throws a WorkerError naming the
    /// benchmark it was running when it crashed or timed out; `partial`
    /// receives whatever it reported before that.
    public static func run(executable: String, spec: WorkerSpec, timeoutSeconds: Double,
                           environment: [String: String]? = nil,
                           partial: ((WorkerOutcome) -> Void)? = nil) throws -> WorkerOutcome {
        let input = try JSONEncoder().encode(spec)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["worker"]
        if let environment { p.environment = environment }
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        do { try p.run() } catch {
            throw ToolchainError("cannot start worker \(executable): \(error.localizedDescription)")
        }
        final class Box: @unchecked Sendable { var data = Data() }
        let out = Box(), err = Box()
        let group = DispatchGroup()
        for (pipe, box) in [(outPipe, out), (errPipe, err)] {
            group.enter()
            DispatchQueue.global().async {
                box.data = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        // The spec fits in the pipe buffer in practice; write it anyway on
        // another thread so a huge one cannot deadlock against our reads.
        DispatchQueue.global().async {
            try? inPipe.fileHandleForWriting.write(contentsOf: input)
            try? inPipe.fileHandleForWriting.close()
        }
        var timedOut = false
        if group.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            group.wait()
        }
        p.waitUntilExit()

        var outcome = WorkerOutcome(results: [], calibrated: [:], stderrLines: [])
        outcome.stderrLines = String(decoding: err.data, as: UTF8.self).split(separator: "\n").map(String.init)
        var current: String?
        var finished = false
        let decoder = JSONDecoder()
        for line in out.data.split(separator: 0x0A) where !line.isEmpty {
            guard let m = try? decoder.decode(WorkerMessage.self, from: Data(line)) else {
                partial?(outcome)
                throw WorkerError("worker broke the protocol (running \(current ?? "nothing yet")): \(String(decoding: line.prefix(120), as: UTF8.self))")
            }
            switch m {
            case .started(let b): current = b
            case .calibrated(let b, let n): outcome.calibrated[b] = n
            case .result(let r): outcome.results.append(r)
            case .listed(let names): outcome.listed = names
            case .finished: finished = true
            }
        }
        let what = current.map { "running \($0)" } ?? "before its first benchmark"
        if timedOut {
            partial?(outcome)
            throw WorkerError("worker timed out after \(Int(timeoutSeconds)) s \(what) and was killed")
        }
        if p.terminationReason == .uncaughtSignal {
            partial?(outcome)
            throw WorkerError("worker crashed with signal \(p.terminationStatus) (\(signalName(p.terminationStatus))) \(what)"
                              + lastLine(outcome.stderrLines))
        }
        guard p.terminationStatus == 0, finished else {
            partial?(outcome)
            throw WorkerError("worker exited with status \(p.terminationStatus) \(what)" + lastLine(outcome.stderrLines))
        }
        return outcome
    }

    static func lastLine(_ lines: [String]) -> String {
        lines.last.map { ": \($0)" } ?? ""
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGILL: return "SIGILL"
        case SIGBUS: return "SIGBUS"
        case SIGKILL: return "SIGKILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGFPE: return "SIGFPE"
        default: return "signal \(s)"
        }
    }

    /// This process's executable (the gobench binary when called from it).
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
