module witgen-tests/echo-guest

go 1.24

require witgen/echo v0.0.0

replace witgen/echo => ../../../target/go-guests/echo-sdk
