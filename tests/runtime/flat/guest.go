// The flat guest in Go: each echo returns its arguments, each via-host passes them through the
// host's import of the same signature.
package main

import (
	"strings"

	"runtime/flat/flat"
	"runtime/flat/guest"
	"runtime/flat/host"
	"runtime/flat/witrt"
)

type echoes struct{}

type spilled = witrt.Tuple15[uint8, uint16, uint32, uint64, int8, int16, int32, int64, float32, float64, rune, bool, string, guest.Point, guest.Shape]

func (echoes) EchoBool(v bool) bool          { return v }
func (echoes) EchoS8(v int8) int8            { return v }
func (echoes) EchoU16(v uint16) uint16       { return v }
func (echoes) EchoU64(v uint64) uint64       { return v }
func (echoes) EchoF32(v float32) float32     { return v }
func (echoes) EchoF64(v float64) float64     { return v }
func (echoes) EchoChar(v rune) rune          { return v }
func (echoes) EchoString(v string) string    { return v }
func (echoes) EchoColor(v guest.Color) guest.Color { return v }
func (echoes) EchoFull(v guest.Full) guest.Full    { return v }
func (echoes) EchoShape(v guest.Shape) guest.Shape { return v }

func (echoes) EchoPair(a float32, b float64) witrt.Tuple2[float32, float64] {
	return witrt.Tuple2[float32, float64]{F0: a, F1: b}
}

func (echoes) EchoLists(a []uint64, b []float32, c []bool, d []rune, e []int16) witrt.Tuple5[[]uint64, []float32, []bool, []rune, []int16] {
	return witrt.Tuple5[[]uint64, []float32, []bool, []rune, []int16]{F0: a, F1: b, F2: c, F3: d, F4: e}
}

func (echoes) EchoOption(v witrt.Option[uint8]) witrt.Option[uint8] { return v }

func (echoes) EchoResult(v witrt.Result[string, uint32]) witrt.Result[string, uint32] {
	return v
}

func (echoes) EchoErrOnly(v witrt.Result[witrt.Unit, guest.Color]) witrt.Result[witrt.Unit, guest.Color] {
	return v
}

func (echoes) EchoBare(v witrt.Result[witrt.Unit, witrt.Unit]) witrt.Result[witrt.Unit, witrt.Unit] {
	return v
}

func (echoes) EchoCasts(a guest.CastsA, b guest.CastsB, c witrt.Option[guest.CastsB]) witrt.Tuple3[guest.CastsA, guest.CastsB, witrt.Option[guest.CastsB]] {
	return witrt.Tuple3[guest.CastsA, guest.CastsB, witrt.Option[guest.CastsB]]{F0: a, F1: b, F2: c}
}

func (echoes) ViaHostCasts(a guest.CastsA, b guest.CastsB, c witrt.Option[guest.CastsB]) witrt.Tuple3[guest.CastsA, guest.CastsB, witrt.Option[guest.CastsB]] {
	return host.PassCasts(a, b, c)
}

func (echoes) EchoSpilled(a uint8, b uint16, c uint32, d uint64, e int8, f int16, g int32, h int64, i float32, j float64, k rune, l bool, m string, n guest.Point, o guest.Shape) spilled {
	return spilled{F0: a, F1: b, F2: c, F3: d, F4: e, F5: f, F6: g, F7: h, F8: i, F9: j, F10: k, F11: l, F12: m, F13: n, F14: o}
}

func (echoes) ViaHostSpilled(a uint8, b uint16, c uint32, d uint64, e int8, f int16, g int32, h int64, i float32, j float64, k rune, l bool, m string, n guest.Point, o guest.Shape) spilled {
	return host.PassSpilled(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o)
}

func (echoes) ViaHostStrings(n uint32) string { return strings.Join(host.Strings(n), ",") }

func (echoes) ViaHostNothing(n uint32) {
	for range n {
		host.Nothing()
	}
}

type world struct{}

func (world) Stamp(where flat.Point) flat.Stamped { return flat.Stamped{At: flat.Clock(), Where: where} }

func init() {
	guest.Export(echoes{})
	flat.Export(world{})
}

func main() {}
