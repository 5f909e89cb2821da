module witgen-tests/maps-guest

go 1.24

require witgen/maps v0.0.0

replace witgen/maps => ../../../target/go-guests/maps-sdk
