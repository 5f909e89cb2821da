// Command processor is an example DataFlare processor plugin written in Go.
//
// It upper-cases record payloads, drops records whose payload is empty, splits payloads on
// `|` into several records, and fails records whose payload is not UTF-8. It tags every record
// it emits with the `processed-by` metadata key, reads the `tag` configuration key once per
// call, counts records with the host's metrics and logs what it does.
//
// Build it with `witgen build`; `witgen test` runs the cases of fixtures/.
package main

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"sdk/config"
	"sdk/logging"
	"sdk/metrics"
	"sdk/processor"
	"sdk/types"
	"sdk/witrt"
)

type upperCaser struct{}

func (upperCaser) Info() processor.PluginInfo {
	return processor.PluginInfo{
		Name:         "go-upper",
		Version:      "1.0.0",
		Capabilities: types.CapabilitiesBatching | types.CapabilitiesOrdered,
	}
}

func (upperCaser) Process(record processor.DataRecord) processor.ProcessingResult {
	tag := config.Get("tag").Value()
	return process(record, tag)
}

func (upperCaser) ProcessBatch(records []processor.DataRecord) []processor.ProcessingResult {
	tag := config.Get("tag").Value()
	out := make([]processor.ProcessingResult, len(records))
	for i, record := range records {
		out[i] = process(record, tag)
	}
	return out
}

func process(record processor.DataRecord, tag string) processor.ProcessingResult {
	metrics.CounterAdd("records-in", 1)
	if len(record.Payload) == 0 {
		logging.Log(logging.LevelDebug, "skipping empty record "+record.ID)
		return types.ProcessingResultSkip()
	}
	if !utf8.Valid(record.Payload) {
		logging.Log(logging.LevelWarn, "record "+record.ID+" is not UTF-8")
		return types.ProcessingResultFailed(types.PluginError{
			Kind:     types.ErrorKindInvalidInput,
			Message:  "payload is not UTF-8",
			RecordID: witrt.Some(record.ID),
		})
	}
	parts := bytes.Split(record.Payload, []byte("|"))
	outs := make([]processor.DataRecord, len(parts))
	for i, part := range parts {
		outs[i] = processor.DataRecord{
			ID:        record.ID,
			Timestamp: record.Timestamp,
			Payload:   []byte(strings.ToUpper(string(part))),
			Metadata: append(append([]witrt.Tuple2[string, string]{}, record.Metadata...),
				witrt.Tuple2[string, string]{F0: "processed-by", F1: tag}),
		}
	}
	if len(outs) > 1 {
		logging.Log(logging.LevelInfo, "split record "+record.ID)
		return types.ProcessingResultSplit(outs)
	}
	return types.ProcessingResultEmit(outs[0])
}

func init() {
	processor.Export(upperCaser{})
}

func main() {}
