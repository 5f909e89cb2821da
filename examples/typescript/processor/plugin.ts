// An example DataFlare processor plugin written in TypeScript against the generated SDK.
//
// It upper-cases ASCII payloads, optionally prefixes record ids (config key `id-prefix`),
// drops records tagged `drop=yes`, splits records tagged `split=lines` into one record per
// line (at most `max-parts`), and reports an empty payload as `failed`. Build it with
// `witgen build`; `witgen test` runs the cases of fixtures/.

import { enabled, log } from "dataflare:core/logging@1.0.0";
import { counterAdd } from "dataflare:core/metrics@1.0.0";
import { get, getInt } from "dataflare:core/config@1.0.0";
import {
  defineProcessor,
  type DataRecord,
  type ProcessingResult,
} from "./sdk/processor-plugin.js";

const NAME = "uppercase";

function tag(record: DataRecord, key: string): string | undefined {
  return record.metadata.find(([k]) => k === key)?.[1];
}

function upperAscii(bytes: Uint8Array): Uint8Array {
  // a = 0x61 .. z = 0x7a; every other byte (including UTF-8 sequences) is kept as is
  return bytes.map((b) => (b >= 0x61 && b <= 0x7a ? b - 0x20 : b));
}

function rewrite(
  record: DataRecord,
  payload: Uint8Array,
  suffix = "",
): DataRecord {
  const prefix = get("id-prefix") ?? "";
  return {
    id: `${prefix}${record.id}${suffix}`,
    timestamp: record.timestamp,
    payload: upperAscii(payload),
    metadata: [...record.metadata, ["processed-by", NAME]],
  };
}

// The `max-parts` config value; `getInt` throws when the host returns `err` (key missing or
// not an integer), which means no limit.
function maxParts(): number {
  try {
    return Number(getInt("max-parts"));
  } catch {
    return Infinity;
  }
}

function splitLines(payload: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= payload.length; i++) {
    if (i === payload.length || payload[i] === 0x0a) {
      if (i > start) parts.push(payload.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

function processOne(record: DataRecord): ProcessingResult {
  counterAdd("records-in", 1n);
  if (record.payload.length === 0) {
    return {
      tag: "failed",
      val: {
        kind: "invalid-input",
        message: "empty payload",
        recordId: record.id,
      },
    };
  }
  if (tag(record, "drop") === "yes") {
    if (enabled("debug")) log("debug", `dropping ${record.id}`);
    return { tag: "skip" };
  }
  if (tag(record, "split") === "lines") {
    const parts = splitLines(record.payload).slice(0, maxParts());
    return {
      tag: "split",
      val: parts.map((p, i) => rewrite(record, p, `#${i}`)),
    };
  }
  return { tag: "emit", val: rewrite(record, record.payload) };
}

export const processor = defineProcessor({
  info() {
    return {
      name: NAME,
      version: "1.0.0",
      capabilities: { batching: true, ordered: true },
    };
  },

  process(record) {
    return processOne(record);
  },

  processBatch(records) {
    log("info", `processing a batch of ${records.length}`);
    return records.map(processOne);
  },
});
