// Command maps-guest passes WIT maps through the host and back: each export of `maps` calls
// the import of the same name, changing the value on the way.
package main

import (
	"witgen/maps/maps"
)

type exports struct{}

// Pass adds one to every value, then lets the host answer.
func (exports) Pass(m map[string]uint32) map[string]uint32 {
	plus := make(map[string]uint32, len(m))
	for k, v := range m {
		plus[k] = v + 1
	}
	return maps.Pass(plus)
}

// Group asks the host and adds one to the total and a count of its own.
func (exports) Group(m map[uint32][]string) maps.Tally {
	t := maps.Group(m)
	t.Total++
	t.Counts["go"] = uint32(len(m))
	return t
}

func init() {
	maps.Export(exports{})
}

func main() {}
