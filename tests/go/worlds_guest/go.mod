module witgen-tests/worlds-guest

go 1.24

require witgen/worlds v0.0.0

replace witgen/worlds => ../../../target/go-guests/worlds-sdk
