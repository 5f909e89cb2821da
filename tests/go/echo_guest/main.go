// Command echo-guest passes every value it is given through the host and back: each export
// calls the import of the same name, so one call from the host exercises lifting and lowering
// in both directions. Counters exercise exported resources.
package main

import (
	"witgen/echo/echo"
	"witgen/echo/guest"
	"witgen/echo/host"
	"witgen/echo/witrt"
)

type passer struct{}

func (passer) PassScalars(v guest.Scalars) guest.Scalars { return host.PassScalars(v) }

func (passer) PassWide(a, b guest.Scalars) witrt.Tuple2[guest.Scalars, guest.Scalars] {
	return host.PassWide(a, b)
}

func (passer) PassBytes(v []byte) []byte              { return host.PassBytes(v) }
func (passer) PassStrings(v []string) []string        { return host.PassStrings(v) }
func (passer) PassBools(v []bool) []bool              { return host.PassBools(v) }
func (passer) PassPoints(v guest.Points) guest.Points { return host.PassPoints(v) }
func (passer) PassNested(v [][]uint32) [][]uint32     { return host.PassNested(v) }

func (passer) PassMaybeString(v witrt.Option[string]) witrt.Option[string] {
	return host.PassMaybeString(v)
}

func (passer) PassMaybePoint(v witrt.Option[guest.Point]) witrt.Option[guest.Point] {
	return host.PassMaybePoint(v)
}

func (passer) PassOutcome(v witrt.Result[uint32, string]) witrt.Result[uint32, string] {
	return host.PassOutcome(v)
}

func (passer) PassUnitOk(v witrt.Result[witrt.Unit, guest.Color]) witrt.Result[witrt.Unit, guest.Color] {
	return host.PassUnitOk(v)
}

func (passer) PassBare(v witrt.Result[witrt.Unit, witrt.Unit]) witrt.Result[witrt.Unit, witrt.Unit] {
	return host.PassBare(v)
}

func (passer) PassColor(v guest.Color) guest.Color { return host.PassColor(v) }
func (passer) PassPerms(v guest.Perms) guest.Perms { return host.PassPerms(v) }
func (passer) PassMany(v guest.Many) guest.Many    { return host.PassMany(v) }
func (passer) PassShape(v guest.Shape) guest.Shape { return host.PassShape(v) }
func (passer) PassNum(v guest.Num) guest.Num       { return host.PassNum(v) }

func (passer) PassTriple(v witrt.Tuple3[uint8, string, float64]) witrt.Tuple3[uint8, string, float64] {
	return host.PassTriple(v)
}

func (passer) PassF32(v float32) float32 { return host.PassF32(v) }
func (passer) PassChar(v rune) rune      { return host.PassChar(v) }
func (passer) PassS8(v int8) int8        { return host.PassS8(v) }
func (passer) PassNothing()              { host.PassNothing() }

var live uint32

type counter struct{ value uint32 }

func (c *counter) Add(n uint32) uint32 {
	c.value += n
	return c.value
}

// Drop is called when the host drops its last handle.
func (c *counter) Drop() { live-- }

func (passer) NewCounter(start uint32) guest.Counter {
	live++
	return &counter{value: start}
}

func (passer) CounterMerge(a, b guest.Counter) guest.Counter {
	live++
	return &counter{value: a.(*counter).value + b.(*counter).value}
}

func (passer) LiveCounters() uint32 { return live }

func (passer) UseTally(start, by uint32) uint32 {
	t := host.NewTally(start)
	u := host.TallyBump(t, by)
	v := u.Get()
	t.Drop()
	u.Drop()
	return v
}

type world struct{}

func (world) Stamp(where echo.Point) echo.Stamped {
	return echo.Stamped{At: echo.Clock(), Where: where}
}

func init() {
	guest.Export(passer{})
	echo.Export(world{})
}

func main() {}
