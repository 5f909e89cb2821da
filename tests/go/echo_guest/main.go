// Command echo-guest passes every value it is given through the host and back: each export
// calls the import of the same name, so one call from the host exercises lifting and lowering
// in both directions. Counters exercise exported resources.
package main

import (
	"witgen/echo/guest"
	"witgen/echo/host"
	"witgen/echo/witrt"
)

type echo struct{}

func (echo) PassScalars(v guest.Scalars) guest.Scalars { return host.PassScalars(v) }

func (echo) PassWide(a, b guest.Scalars) witrt.Tuple2[guest.Scalars, guest.Scalars] {
	return host.PassWide(a, b)
}

func (echo) PassBytes(v []byte) []byte              { return host.PassBytes(v) }
func (echo) PassStrings(v []string) []string        { return host.PassStrings(v) }
func (echo) PassBools(v []bool) []bool              { return host.PassBools(v) }
func (echo) PassPoints(v guest.Points) guest.Points { return host.PassPoints(v) }
func (echo) PassNested(v [][]uint32) [][]uint32     { return host.PassNested(v) }

func (echo) PassMaybeString(v witrt.Option[string]) witrt.Option[string] {
	return host.PassMaybeString(v)
}

func (echo) PassMaybePoint(v witrt.Option[guest.Point]) witrt.Option[guest.Point] {
	return host.PassMaybePoint(v)
}

func (echo) PassOutcome(v witrt.Result[uint32, string]) witrt.Result[uint32, string] {
	return host.PassOutcome(v)
}

func (echo) PassUnitOk(v witrt.Result[witrt.Unit, guest.Color]) witrt.Result[witrt.Unit, guest.Color] {
	return host.PassUnitOk(v)
}

func (echo) PassBare(v witrt.Result[witrt.Unit, witrt.Unit]) witrt.Result[witrt.Unit, witrt.Unit] {
	return host.PassBare(v)
}

func (echo) PassColor(v guest.Color) guest.Color { return host.PassColor(v) }
func (echo) PassPerms(v guest.Perms) guest.Perms { return host.PassPerms(v) }
func (echo) PassMany(v guest.Many) guest.Many    { return host.PassMany(v) }
func (echo) PassShape(v guest.Shape) guest.Shape { return host.PassShape(v) }
func (echo) PassNum(v guest.Num) guest.Num       { return host.PassNum(v) }

func (echo) PassTriple(v witrt.Tuple3[uint8, string, float64]) witrt.Tuple3[uint8, string, float64] {
	return host.PassTriple(v)
}

func (echo) PassF32(v float32) float32 { return host.PassF32(v) }
func (echo) PassChar(v rune) rune      { return host.PassChar(v) }
func (echo) PassS8(v int8) int8        { return host.PassS8(v) }
func (echo) PassNothing()              { host.PassNothing() }

var live uint32

type counter struct{ value uint32 }

func (c *counter) Add(n uint32) uint32 {
	c.value += n
	return c.value
}

// Drop is called when the host drops its last handle.
func (c *counter) Drop() { live-- }

func (echo) NewCounter(start uint32) guest.Counter {
	live++
	return &counter{value: start}
}

func (echo) CounterMerge(a, b guest.Counter) guest.Counter {
	live++
	return &counter{value: a.(*counter).value + b.(*counter).value}
}

func (echo) LiveCounters() uint32 { return live }

func init() {
	guest.Export(echo{})
}

func main() {}
