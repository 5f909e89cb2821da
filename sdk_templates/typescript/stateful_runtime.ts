type Embed =
  "trap" | "throw" | { readonly case: string } | { readonly list: Embed };
type Table = Readonly<Record<string, Embed>>;

function embed(how: Embed, error: unknown, args: unknown[]): unknown {
  if (how === "throw") throw new ComponentError(error);
  if (how === "trap")
    throw new Error(`the plugin could not start: ${JSON.stringify(error)}`);
  if ("case" in how) return { tag: how.case, val: error };
  const list = args.find(Array.isArray) ?? [];
  return list.map(() => {
    try {
      return embed(how.list, error, []);
    } catch (e) {
      if (e instanceof ComponentError) return { tag: "err", val: e.payload };
      throw e;
    }
  });
}

function fromClass<T extends object>(
  cls: object,
  construct: () => object,
  table: Table,
): T {
  let state: object | undefined;
  let failure: { error: unknown } | undefined;
  const adapter: Record<string, unknown> = {};
  for (const [name, how] of Object.entries(table)) {
    adapter[name] = (...args: unknown[]): unknown => {
      if (state === undefined && failure === undefined) {
        try {
          state = construct();
        } catch (e) {
          if (!(e instanceof ComponentError)) throw e;
          failure = { error: e.payload };
        }
      }
      if (failure !== undefined) return embed(how, failure.error, args);
      const method = (state as Record<string, unknown>)[name];
      return (method as (...a: unknown[]) => unknown).apply(state, args);
    };
  }
  for (const [name, value] of Object.entries(cls)) adapter[name] = value;
  return adapter as T;
}
