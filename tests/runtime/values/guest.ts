// The values guest in TypeScript: each echo returns its argument, each via-host passes it
// through the host's import of the same type.

import { passNested, passScalars } from "runtime:values/host";
import { defineGuest } from "./sdk/values.js";

export const guest = defineGuest({
  echoScalars: (v) => v,
  echoNested: (v) => v,
  echoPoints: (v) => v,
  echoStrings: (v) => v,
  echoBytes: (v) => v,
  countChars: (s) => [...s].length,
  viaHostScalars: (v) => passScalars(v),
  viaHostNested: (v) => passNested(v),
});
