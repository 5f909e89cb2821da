// The flat guest in TypeScript: each echo returns its arguments, each via-host passes them
// through the host's import of the same signature; an err is thrown as a ComponentError.

import clock from "clock";
import { nothing, passCasts, passSpilled, strings } from "runtime:flat/host";
import { ComponentError, defineGuest, defineStamp, type Result } from "./sdk/flat.js";

function unwrap<T, E>(v: Result<T, E>): T {
  if (v.tag === "err") {
    throw new ComponentError(v.val);
  }
  return v.val;
}

export const guest = defineGuest({
  echoBool: (v) => v,
  echoS8: (v) => v,
  echoU16: (v) => v,
  echoU64: (v) => v,
  echoF32: (v) => v,
  echoF64: (v) => v,
  echoChar: (v) => v,
  echoString: (v) => v,
  echoPair: (a, b) => [a, b],
  echoLists: (a, b, c, d, e) => [a, b, c, d, e],
  echoColor: (v) => v,
  echoFull: (v) => v,
  echoOption: (v) => v,
  echoResult: (v) => unwrap(v),
  echoErrOnly: (v) => unwrap(v),
  echoBare: (v) => unwrap(v),
  echoShape: (v) => v,
  echoCasts: (a, b, c) => [a, b, c],
  viaHostCasts: (a, b, c) => passCasts(a, b, c),
  echoSpilled: (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o) =>
    [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o],
  viaHostSpilled: (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o) =>
    passSpilled(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o),
  viaHostStrings: (n) => strings(n).join(","),
  viaHostNothing: (n) => {
    for (let i = 0; i < n; i++) {
      nothing();
    }
  },
});

export const stamp = defineStamp((where) => ({ at: clock(), where }));
