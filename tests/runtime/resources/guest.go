// The resources guest in Go: `counter` is a Go type the host drives through handles; `tally`
// is the host's, used through the imported functions.
package main

import (
	"runtime/resources/guest"
	"runtime/resources/host"
)

var live uint32

type counter struct{ value int64 }

func newCounter(v int64) *counter {
	live++
	return &counter{value: v}
}

func (c *counter) Add(delta int64) int64 {
	c.value += delta
	return c.value
}

func (c *counter) Get() int64 { return c.value }

// Drop runs when the host drops its last handle.
func (c *counter) Drop() { live-- }

type resources struct{}

func (resources) NewCounter(start int64) guest.Counter { return newCounter(start) }

func (resources) CounterMerge(a, b guest.Counter) guest.Counter {
	return newCounter(a.Get() + b.Get())
}

func (resources) Total(c guest.Counter) int64 { return c.Get() }

func (resources) Consume(c guest.Counter) int64 { return c.Get() }

func (resources) Live() uint32 { return live }

func (resources) UseTally(start, by uint32) uint32 {
	t := host.NewTally(start)
	u := host.TallyBump(t, by)
	v := u.Get()
	t.Drop()
	u.Drop()
	return v
}

func init() { guest.Export(resources{}) }

func main() {}
