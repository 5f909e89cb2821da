// The resources guest in TypeScript: `counter` is a class the host drives through handles;
// `tally` is the host's, a class imported from its interface.

import { Tally } from "runtime:resources/host";
import { defineGuest, type Counter } from "./sdk/resources.js";

let live = 0;

class CounterImpl implements Counter {
  value: bigint;

  constructor(start: bigint) {
    this.value = start;
    live += 1;
  }

  add(delta: bigint): bigint {
    this.value = BigInt.asIntN(64, this.value + delta);
    return this.value;
  }

  get(): bigint {
    return this.value;
  }

  // componentize-js calls this when the host drops its last handle
  [Symbol.dispose](): void {
    live -= 1;
  }

  static merge(a: Counter, b: Counter): Counter {
    return new CounterImpl(BigInt.asIntN(64, a.get() + b.get()));
  }
}

export const guest = defineGuest({
  Counter: CounterImpl,
  total: (c) => c.get(),
  consume: (c) => c.get(),
  live: () => live,
  useTally: (start, by) => {
    const first = new Tally(start);
    const second = Tally.bump(first, by);
    const value = second.get();
    first[Symbol.dispose]();
    second[Symbol.dispose]();
    return value;
  },
});
