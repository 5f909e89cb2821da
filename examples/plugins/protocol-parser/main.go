// Command protocol-parser turns StatsD-style metric lines into records: a processor that parses
// a wire format, reporting malformed input as failed records, never trapping.
//
// Each line of a payload is `name:value|type[|@rate]` with type c (counter), g (gauge), ms
// (timer) or h (histogram); empty lines are ignored. One line gives an emitted record, several a
// split (ids `<id>-<n>`). Each record's payload is JSON
// `{"name":...,"value":...,"type":...,"rate":...}` and its metadata carries ("metric", name) and
// ("type", type). Any malformed line fails the whole record with invalid-input, naming the line;
// an empty payload is skipped. Counters "lines" and "malformed" count what was seen.
package main

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"sdk/logging"
	"sdk/metrics"
	"sdk/processor"
	"sdk/types"
	"sdk/witrt"
)

var typeNames = map[string]string{"c": "counter", "g": "gauge", "ms": "timer", "h": "histogram"}

type metric struct {
	name, kind  string
	value, rate float64
}

func parseLine(line string) (metric, string) {
	name, rest, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return metric{}, "expected name:value|type"
	}
	if strings.ContainsAny(name, " |@") {
		return metric{}, "the metric name has a space, '|' or '@'"
	}
	parts := strings.Split(rest, "|")
	if len(parts) < 2 || len(parts) > 3 {
		return metric{}, "expected name:value|type[|@rate]"
	}
	value, err := strconv.ParseFloat(parts[0], 64)
	if err != nil {
		return metric{}, "value " + strconv.Quote(parts[0]) + " is not a number"
	}
	kind, ok := typeNames[parts[1]]
	if !ok {
		return metric{}, "unknown type " + strconv.Quote(parts[1]) + " (c, g, ms or h)"
	}
	rate := 1.0
	if len(parts) == 3 {
		r, err := strconv.ParseFloat(strings.TrimPrefix(parts[2], "@"), 64)
		if !strings.HasPrefix(parts[2], "@") || err != nil || r <= 0 || r > 1 {
			return metric{}, "sample rate must be @ and a number in (0, 1]"
		}
		rate = r
	}
	return metric{name: name, kind: kind, value: value, rate: rate}, ""
}

func (m metric) record(id string, timestamp int64) processor.DataRecord {
	var b strings.Builder
	b.WriteString(`{"name":` + strconv.Quote(m.name))
	b.WriteString(`,"value":` + strconv.FormatFloat(m.value, 'g', -1, 64))
	b.WriteString(`,"type":"` + m.kind + `"`)
	b.WriteString(`,"rate":` + strconv.FormatFloat(m.rate, 'g', -1, 64) + "}")
	return processor.DataRecord{
		ID:        id,
		Timestamp: timestamp,
		Payload:   []byte(b.String()),
		Metadata: []witrt.Tuple2[string, string]{
			{F0: "metric", F1: m.name},
			{F0: "type", F1: m.kind},
		},
	}
}

func failed(record processor.DataRecord, message string) processor.ProcessingResult {
	metrics.CounterAdd("malformed", 1)
	logging.Log(logging.LevelWarn, record.ID+": "+message)
	return types.ProcessingResultFailed(types.PluginError{
		Kind:     types.ErrorKindInvalidInput,
		Message:  message,
		RecordID: witrt.Some(record.ID),
	})
}

type parser struct{}

func (parser) Info() processor.PluginInfo {
	return processor.PluginInfo{
		Name:         "protocol-parser",
		Version:      "0.1.0",
		Capabilities: types.CapabilitiesBatching | types.CapabilitiesOrdered,
	}
}

func (parser) Process(record processor.DataRecord) processor.ProcessingResult {
	if !utf8.Valid(record.Payload) {
		return failed(record, "payload is not UTF-8")
	}
	var out []processor.DataRecord
	for n, line := range bytes.Split(record.Payload, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" {
			continue
		}
		metrics.CounterAdd("lines", 1)
		m, problem := parseLine(text)
		if problem != "" {
			return failed(record, "line "+strconv.Itoa(n+1)+": "+problem)
		}
		out = append(out, m.record(record.ID+"-"+strconv.Itoa(len(out)), record.Timestamp))
	}
	switch len(out) {
	case 0:
		return types.ProcessingResultSkip()
	case 1:
		out[0].ID = record.ID
		return types.ProcessingResultEmit(out[0])
	}
	return types.ProcessingResultSplit(out)
}

func (p parser) ProcessBatch(records []processor.DataRecord) []processor.ProcessingResult {
	out := make([]processor.ProcessingResult, len(records))
	for i, record := range records {
		out[i] = p.Process(record)
	}
	return out
}

func init() {
	processor.Export(parser{})
}

func main() {}
