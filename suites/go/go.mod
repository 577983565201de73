module gobench/suites/go

go 1.19
