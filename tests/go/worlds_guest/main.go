// Command worlds-guest exercises inline interfaces and an interface that the same world both
// imports and exports: each export forwards to an import, changing the value on the way.
package main

import (
	"witgen/worlds/relay"
	"witgen/worlds/types"
	"witgen/worlds/witrt"
	"witgen/worlds/worlds"
	"witgen/worlds/worlds/guest"
	"witgen/worlds/worlds/host"
)

type relayExports struct{}

// Swap calls the host's relay.swap (the import of the same interface) on a changed pair.
func (relayExports) Swap(p types.Pair) types.Pair {
	return relay.Swap(types.Pair{A: p.A + 1, B: p.B + "!"})
}

func (relayExports) Count() uint32 { return relay.Count() * 2 }

type guestExports struct{}

func (guestExports) Lookup(key string) witrt.Tuple2[string, uint32] {
	e := host.Get(key)
	return witrt.Tuple2[string, uint32]{F0: e.Key, F1: e.Value}
}

type worldExports struct{}

func (worldExports) Run() uint32 {
	host.Log(types.Pair{A: 7, B: "run"})
	return 7
}

func init() {
	relay.Export(relayExports{})
	guest.Export(guestExports{})
	worlds.Export(worldExports{})
}

func main() {}
