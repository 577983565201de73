// Empty: its presence lets harness_test.go declare procyield without a body (go:linkname).
