module processor

go 1.24

require sdk v0.0.0

replace sdk => ./sdk
