module dataflare-examples/processor

go 1.24

require dataflare/core v0.0.0

replace dataflare/core => ../../../generated/go
