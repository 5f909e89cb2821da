// The dual guest in TypeScript: its `cursor` class wraps a cursor of the host's import of the
// same interface.

import { Cursor as HostCursor, open, peek } from "runtime:dual/store";
import { defineStore, type Cursor } from "./sdk/dual.js";

class Wrapped implements Cursor {
  inner: HostCursor;

  constructor(start: number | HostCursor) {
    this.inner = typeof start === "number" ? new HostCursor(start) : start;
  }

  next(): number {
    return this.inner.next() + 100;
  }

  // componentize-js calls this when the host drops its last handle: the host cursor goes too
  [Symbol.dispose](): void {
    this.inner[Symbol.dispose]();
  }
}

export const store = defineStore({
  Cursor: Wrapped,
  open: (start) => new Wrapped(open(start)),
  peek: (c) => {
    const seen = peek((c as Wrapped).inner);
    return { label: `guest:${seen.label}`, at: seen.at };
  },
});
