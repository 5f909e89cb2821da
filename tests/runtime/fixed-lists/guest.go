// The fixed-length lists guest in Go: fixed lists are Go arrays.
package main

import (
	"fmt"

	"runtime/fixed-lists/guest"
	"runtime/fixed-lists/host"
	"runtime/fixed-lists/witrt"
)

type fixed struct{}

func (fixed) Rotate(v [3]uint32) [3]uint32 { return [3]uint32{v[1], v[2], v[0]} }

func (fixed) EchoGrid(g guest.Grid) guest.Grid { return g }

func (fixed) ViaHostGrid(g guest.Grid) guest.Grid { return host.PassGrid(g) }

func (fixed) ReverseBytes(b [4]uint8) [4]uint8 { return [4]uint8{b[3], b[2], b[1], b[0]} }

func (fixed) Wide(a [4]uint64, b [4]float32, c [9]uint32) [3]string {
	var sa, sc uint64
	for _, x := range a {
		sa += x
	}
	for _, x := range c {
		sc += uint64(x)
	}
	return [3]string{fmt.Sprint(sa), fmt.Sprint(b[0] + b[1] + b[2] + b[3]), fmt.Sprint(sc)}
}

func (fixed) Optional(v witrt.Option[[2]int16]) witrt.Result[[2]rune, [3]bool] {
	x, ok := v.Get()
	if !ok {
		return witrt.Err[[2]rune]([3]bool{true, false, true})
	}
	return witrt.Ok[[2]rune, [3]bool]([2]rune{rune('A' + (int(x[0])%26+26)%26), 'é'})
}

func init() { guest.Export(fixed{}) }

func main() {}
