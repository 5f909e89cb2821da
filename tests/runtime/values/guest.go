// The values guest in Go: each echo returns its argument, each via-host passes it through the
// host's import of the same type.
package main

import (
	"unicode/utf8"

	"runtime/values/guest"
	"runtime/values/host"
)

type values struct{}

func (values) EchoScalars(v guest.Scalars) guest.Scalars   { return v }
func (values) EchoNested(v guest.Nested) guest.Nested      { return v }
func (values) EchoPoints(v []guest.Point) []guest.Point    { return v }
func (values) EchoStrings(v []string) []string             { return v }
func (values) EchoBytes(v []byte) []byte                   { return v }
func (values) CountChars(s string) uint32                  { return uint32(utf8.RuneCountInString(s)) }
func (values) ViaHostScalars(v guest.Scalars) guest.Scalars { return host.PassScalars(v) }
func (values) ViaHostNested(v guest.Nested) guest.Nested    { return host.PassNested(v) }

func init() { guest.Export(values{}) }

func main() {}
