// Command worlds-guest exercises inline interfaces and an interface that the same world both
// imports and exports, and one interface imported under two names and exported under a third:
// each export forwards to an import, changing the value on the way.
package main

import (
	"witgen/worlds/relay"
	"witgen/worlds/types"
	"witgen/worlds/witrt"
	"witgen/worlds/worlds"
	"witgen/worlds/worlds/backup"
	"witgen/worlds/worlds/cache"
	"witgen/worlds/worlds/guest"
	"witgen/worlds/worlds/host"
	"witgen/worlds/worlds/primary"
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

type cacheExports struct{}

// Get asks both imported stores (two instances of the same interface) and joins their answers.
func (cacheExports) Get(key string) cache.Hit {
	first, second := primary.Get(key), backup.Get(key)
	return cache.Hit{Key: key, Value: first.Value + "|" + second.Value}
}

type worldExports struct{}

func (worldExports) Run() uint32 {
	host.Log(types.Pair{A: 7, B: "run"})
	return 7
}

func init() {
	relay.Export(relayExports{})
	guest.Export(guestExports{})
	cache.Export(cacheExports{})
	worlds.Export(worldExports{})
}

func main() {}
