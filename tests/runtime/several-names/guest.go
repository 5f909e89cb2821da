// The several-names guest in Go: `first` and `second` are one interface exported twice, each
// with its own total, logging to `primary` and `secondary` (one interface imported twice).
package main

import (
	"strconv"

	"runtime/several-names/severalnames/first"
	"runtime/several-names/severalnames/primary"
	"runtime/several-names/severalnames/second"
	"runtime/several-names/severalnames/secondary"
)

type counter struct {
	total uint32
	name  string
	write func(string)
}

func (c *counter) Bump(by uint32) uint32 {
	c.total += by
	c.write(c.name + "=" + strconv.FormatUint(uint64(c.total), 10))
	return c.total
}

func init() {
	first.Export(&counter{name: "first", write: primary.Write})
	second.Export(&counter{name: "second", write: secondary.Write})
}

func main() {}
