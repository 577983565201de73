// mksizeclasses: writes Sources/GoRuntime/Malloc/SizeClasses.swift, the
// size-class tables of the allocator, as Go 1.19's runtime/mksizeclasses.go
// writes runtime/sizeclasses.go.
//
// Usage: swift run mksizeclasses [--stdout] [output-path]
// The algorithm itself is GoRuntime's `SizeClassGenerator` (SPI), shared
// with the test that fails when the checked-in file is stale.

@_spi(Generator) import GoRuntime
#if canImport(Glibc)
import Glibc
#endif

var toStdout = false
var path = "Sources/GoRuntime/Malloc/SizeClasses.swift"
for arg in CommandLine.arguments.dropFirst() {
    if arg == "--stdout" { toStdout = true } else { path = arg }
}

let text = SizeClassGenerator.render()
if toStdout {
    print(text, terminator: "")
} else {
    guard let f = fopen(path, "w") else {
        fputs("mksizeclasses: cannot open \(path): \(String(cString: strerror(errno)))\n", stderr)
        exit(1)
    }
    let bytes = Array(text.utf8)
    if fwrite(bytes, 1, bytes.count, f) != bytes.count || fclose(f) != 0 {
        fputs("mksizeclasses: write to \(path) failed\n", stderr)
        exit(1)
    }
}
