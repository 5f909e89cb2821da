module witgen-tests/stateful-guest

go 1.24

require witgen/stateful v0.0.0

replace witgen/stateful => ../../../target/go-guests/stateful-sdk
