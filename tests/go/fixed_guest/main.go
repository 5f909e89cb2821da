// Command fixed-guest passes WIT fixed-length lists (Go arrays) through the host and back:
// each export of `fixed` calls the import of the same name, changing the value on the way.
package main

import (
	"witgen/fixed/fixed"
	"witgen/fixed/witrt"
)

type exports struct{}

// Rotate rotates left, then lets the host answer.
func (exports) Rotate(v [3]uint32) [3]uint32 {
	return fixed.Rotate([3]uint32{v[1], v[2], v[0]})
}

// GridPass swaps the rows and marks the first name.
func (exports) GridPass(g fixed.Grid) fixed.Grid {
	g.Cells[0], g.Cells[1] = g.Cells[1], g.Cells[0]
	g.Names[0] += "!"
	return fixed.GridPass(g)
}

func (exports) Wide(a [4]uint64, b [4]float32, c [9]uint32) [3]string {
	a[0]++
	return fixed.Wide(a, b, c)
}

func (exports) Optional(v witrt.Option[[2]int16]) witrt.Result[[2]rune, [3]bool] {
	return fixed.Optional(v)
}

func init() {
	fixed.Export(exports{})
}

func main() {}
