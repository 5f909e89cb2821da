module witgen-tests/fixed-guest

go 1.24

require witgen/fixed v0.0.0

replace witgen/fixed => ../../../target/go-guests/fixed-sdk
