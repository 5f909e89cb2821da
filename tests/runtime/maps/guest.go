// The maps guest in Go: maps are Go maps.
package main

import (
	"strconv"

	"runtime/maps/guest"
	"runtime/maps/host"
)

type maps struct{}

func (maps) EchoMap(m map[string]uint32) map[string]uint32 { return m }

func (maps) Group(m map[uint32][]string) guest.Tally {
	counts := map[string]uint32{}
	var total uint64
	for k, v := range m {
		counts[strconv.FormatUint(uint64(k), 10)] = uint32(len(v))
		total += uint64(len(v))
	}
	return guest.Tally{Counts: counts, Total: total}
}

func (maps) ViaHostMap(m map[string]uint32) map[string]uint32 { return host.PassMap(m) }

func init() { guest.Export(maps{}) }

func main() {}
