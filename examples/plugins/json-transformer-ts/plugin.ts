// json-transformer-ts: field mapping over JSON payloads, driven by configuration.
//
// The plugin is a class (the SDK's stateful shape): a JsonTransformer is constructed once per
// instance from the configuration, and its constructor throws bad-config when it is malformed.
//
// Configuration: `rename` (old:new pairs, comma-separated), `drop` (field names), `add`
// (field:value pairs added as JSON strings). A payload that is not a JSON object fails with
// invalid-input. Records count in the counter `json.records`; every transformed record carries
// ["content-type", "application/json"].

import { get } from "dataflare:core/config@1.0.0";
import { counterAdd } from "dataflare:core/metrics@1.0.0";
import {
  ComponentError,
  type DataRecord,
  type PluginError,
  type PluginInfo,
  type Result,
  type Transformer,
} from "./sdk/transformer-plugin.js";
import { transformerFromClass } from "./sdk/stateful.js";

function pairs(key: string): [string, string][] {
  return (get(key) ?? "")
    .split(",")
    .filter((item) => item.trim() !== "")
    .map((item) => {
      const at = item.indexOf(":");
      if (at <= 0 || item.slice(0, at).trim() === "") {
        throw new ComponentError<PluginError>({
          kind: "bad-config",
          message: `${key}: expected name:value, got ${JSON.stringify(item)}`,
        });
      }
      return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
    });
}

// UTF-8 without TextEncoder/TextDecoder (not in lib es2022)
function decode(bytes: Uint8Array): string {
  return decodeURIComponent(
    Array.from(bytes, (b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
  );
}

function encode(text: string): Uint8Array {
  return Uint8Array.from(unescape(encodeURIComponent(text)), (c) =>
    c.charCodeAt(0),
  );
}

declare function unescape(text: string): string;

class JsonTransformer implements Transformer {
  readonly rename = new Map(pairs("rename"));
  readonly add = pairs("add");
  readonly drop = new Set(
    (get("drop") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );

  info(): PluginInfo {
    return {
      name: "json-transformer",
      version: "0.1.0",
      capabilities: { batching: true, ordered: true },
    };
  }

  transform(record: DataRecord): DataRecord {
    counterAdd("json.records", 1n);
    const invalid = (message: string) =>
      new ComponentError<PluginError>({
        kind: "invalid-input",
        message,
        recordId: record.id,
      });
    let value: unknown;
    try {
      value = JSON.parse(decode(record.payload));
    } catch (e) {
      throw invalid(`payload is not JSON: ${(e as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid("payload is not a JSON object");
    }
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(value)) {
      if (!this.drop.has(name)) out[this.rename.get(name) ?? name] = field;
    }
    for (const [name, text] of this.add) out[name] = text;
    return {
      ...record,
      payload: encode(JSON.stringify(out)),
      metadata: [...record.metadata, ["content-type", "application/json"]],
    };
  }

  transformBatch(records: DataRecord[]): Result<DataRecord, PluginError>[] {
    return records.map((record) => {
      try {
        return { tag: "ok", val: this.transform(record) };
      } catch (e) {
        if (e instanceof ComponentError)
          return { tag: "err", val: e.payload as PluginError };
        throw e;
      }
    });
  }
}

// One JsonTransformer per instance, constructed on the first call; a configuration error
// thrown by its constructor is returned by every call (the SDK's stateful shape).
export const transformer = transformerFromClass(JsonTransformer);
