// `gobench profile-overhead`: bad input is one line and exit 1; a tiny run
// prints one row per benchmark and arm.

import Foundation
import Testing

@Suite struct ProfileOverheadCLITests {
    @Test(arguments: [
        ["profile-overhead", "^harness/xorshift/steps=64$", "--pairs", "3"],
        ["profile-overhead", "^harness/xorshift/steps=64$", "--unwind", "dwarf"],
        ["profile-overhead", "^harness/xorshift/steps=64$", "--rates", "0"],
        ["profile-overhead", "^no-such-benchmark$"],
        ["profile-overhead", "^harness/xorshift/steps=64$", "--format", "go"],
    ])
    func badInputIsOneLineAndExit1(_ args: [String]) throws {
        let r = try gobench(args)
        #expect(r.status == 1, "\(args): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("gobench: "), "\(args): \(r.stderr)")
    }

    @Test func aTinyRunPrintsEveryArm() throws {
        let r = try gobench(["profile-overhead", "^harness/xorshift/steps=64$", "--pairs", "2", "--benchtime", "200x",
                             "--unwind", "fp", "--rates", "997", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("benchmark,unwind,hz,pairs,") == true)
        #expect(rows.count == 3, "header, the A/A control, fp at 997 Hz: \(r.stdout)")
        #expect(rows.contains { $0.hasPrefix("harness/xorshift/steps=64,fp,997,2,") })
        #expect(rows.contains { $0.hasPrefix("harness/xorshift/steps=64,none,,2,") })
    }
}
