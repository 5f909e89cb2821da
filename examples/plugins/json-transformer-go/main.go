// Command json-transformer-go maps fields of JSON payloads, driven by configuration.
//
// The plugin is a value (the SDK's stateful shape, ExportNew): newTransformer reads the
// configuration once per instance and fails with bad-config when it is malformed; the methods
// have a pointer receiver.
//
// Configuration: "rename" (old:new pairs, comma-separated), "drop" (field names), "add"
// (field:value pairs added as JSON strings). A payload that is not a JSON object fails with
// invalid-input. Records count in the counter "json.records"; every transformed record carries
// ("content-type", "application/json").
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sdk/config"
	"sdk/metrics"
	"sdk/transformer"
	"sdk/types"
	"sdk/witrt"
)

type pair struct{ name, value string }

type jsonTransformer struct {
	rename, add []pair
	drop        map[string]bool
}

type field struct {
	name  string
	value json.RawMessage
}

func pairs(key string) ([]pair, error) {
	text, _ := config.Get(key).Get()
	var out []pair
	for _, item := range strings.Split(text, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		a, b, ok := strings.Cut(item, ":")
		if !ok || strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf("%s: expected name:value, got %q", key, item)
		}
		out = append(out, pair{strings.TrimSpace(a), strings.TrimSpace(b)})
	}
	return out, nil
}

func newTransformer() (*jsonTransformer, error) {
	t := &jsonTransformer{drop: map[string]bool{}}
	var err error
	if t.rename, err = pairs("rename"); err != nil {
		return nil, err
	}
	if t.add, err = pairs("add"); err != nil {
		return nil, err
	}
	text, _ := config.Get("drop").Get()
	for _, name := range strings.Split(text, ",") {
		if name = strings.TrimSpace(name); name != "" {
			t.drop[name] = true
		}
	}
	return t, nil
}

// fields reads a JSON object keeping its field order.
func fields(payload []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("payload is not JSON: %v", err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, errNotObject
	}
	var out []field
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("payload is not JSON: %v", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("payload is not JSON: %v", err)
		}
		out = append(out, field{key.(string), raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("payload is not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("payload is not JSON: text after the object")
	}
	return out, nil
}

var errNotObject = errors.New("payload is not a JSON object")

func (t *jsonTransformer) transform(record transformer.DataRecord) witrt.Result[transformer.DataRecord, transformer.PluginError] {
	metrics.CounterAdd("json.records", 1)
	in, err := fields(record.Payload)
	if err != nil {
		return witrt.Err[transformer.DataRecord](transformer.PluginError{
			Kind: types.ErrorKindInvalidInput, Message: err.Error(), RecordID: witrt.Some(record.ID),
		})
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	write := func(name string, value []byte) {
		if n > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		buf.Write(key)
		buf.WriteByte(':')
		json.Compact(&buf, value)
		n++
	}
	for _, f := range in {
		if t.drop[f.name] {
			continue
		}
		name := f.name
		for _, r := range t.rename {
			if r.name == name {
				name = r.value
				break
			}
		}
		write(name, f.value)
	}
	for _, a := range t.add {
		value, _ := json.Marshal(a.value)
		write(a.name, value)
	}
	buf.WriteByte('}')
	record.Payload = buf.Bytes()
	record.Metadata = append(record.Metadata, witrt.Tuple2[string, string]{F0: "content-type", F1: "application/json"})
	return witrt.Ok[transformer.DataRecord, transformer.PluginError](record)
}

func (t *jsonTransformer) Info() transformer.PluginInfo {
	return transformer.PluginInfo{
		Name:         "json-transformer",
		Version:      "0.1.0",
		Capabilities: types.CapabilitiesBatching | types.CapabilitiesOrdered,
	}
}

func (t *jsonTransformer) Transform(record transformer.DataRecord) witrt.Result[transformer.DataRecord, transformer.PluginError] {
	return t.transform(record)
}

func (t *jsonTransformer) TransformBatch(records []transformer.DataRecord) []witrt.Result[transformer.DataRecord, transformer.PluginError] {
	out := make([]witrt.Result[transformer.DataRecord, transformer.PluginError], len(records))
	for i, record := range records {
		out[i] = t.transform(record)
	}
	return out
}

// The SDK's stateful shape: the transformer is built once per instance, on the first call; a
// configuration error is returned by every call.
func init() {
	transformer.ExportNew(func() (transformer.Exports, *types.PluginError) {
		t, err := newTransformer()
		if err != nil {
			return nil, &types.PluginError{Kind: types.ErrorKindBadConfig, Message: err.Error()}
		}
		return t, nil
	})
}

func main() {}
