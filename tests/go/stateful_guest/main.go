// Command stateful-guest is a processor registered with ExportNew: its constructor reads the
// `tag` configuration once per instance and fails without it; the plugin counts the records it
// has seen (state kept between calls by a pointer receiver).
package main

import (
	"strconv"

	"witgen/stateful/config"
	"witgen/stateful/processor"
	"witgen/stateful/types"
)

type tagger struct {
	tag  string
	seen int
}

func (t *tagger) Info() processor.PluginInfo {
	return processor.PluginInfo{Name: "stateful-" + t.tag, Version: "1.0.0"}
}

func (t *tagger) Process(record processor.DataRecord) processor.ProcessingResult {
	t.seen++
	record.ID += ":" + t.tag + ":" + strconv.Itoa(t.seen)
	return types.ProcessingResultEmit(record)
}

func (t *tagger) ProcessBatch(records []processor.DataRecord) []processor.ProcessingResult {
	out := make([]processor.ProcessingResult, len(records))
	for i, record := range records {
		out[i] = t.Process(record)
	}
	return out
}

func newTagger() (processor.Exports, *types.PluginError) {
	tag, ok := config.Get("tag").Get()
	if !ok {
		return nil, &types.PluginError{Kind: types.ErrorKindBadConfig, Message: "no tag configured"}
	}
	return &tagger{tag: tag}, nil
}

func init() {
	processor.ExportNew(newTagger)
}

func main() {}
