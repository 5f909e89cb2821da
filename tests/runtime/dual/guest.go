// The dual guest in Go: its `cursor` wraps a cursor of the host's import of the same interface
// (package store is the import, storeexport the export).
package main

import (
	"runtime/dual/store"
	"runtime/dual/storeexport"
)

type wrapped struct{ inner store.Cursor }

func (w *wrapped) Next() uint32 { return w.inner.Next() + 100 }

// Drop runs when the host drops its last handle: the host cursor goes too.
func (w *wrapped) Drop() { w.inner.Drop() }

type dual struct{}

func (dual) NewCursor(start uint32) storeexport.Cursor {
	return &wrapped{inner: store.NewCursor(start)}
}

func (dual) Open(start uint32) storeexport.Cursor { return &wrapped{inner: store.Open(start)} }

func (dual) Peek(c storeexport.Cursor) storeexport.Snapshot {
	seen := store.Peek(c.(*wrapped).inner)
	return storeexport.Snapshot{Label: "guest:" + seen.Label, At: seen.At}
}

func init() { storeexport.Export(dual{}) }

func main() {}
