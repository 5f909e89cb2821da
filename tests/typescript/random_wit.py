"""Seeded random WIT packages that stress the TypeScript backend's layout: long kebab names
(long camelCase identifiers), nested lists/options/results/tuples, many parameters, every
named-type kind, a resource, the same items imported and exported, and a world-level export.

Each seed gives one package `stress:seed<seed>@1.0.0` with a world `w`, so the SDKs of many
seeds can be type-checked together without their module names clashing."""

from __future__ import annotations

import random

WORDS = (
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega record value item "
    "list data very long name"
).split()
PRIMITIVES = ("u8", "u32", "s64", "u64", "f64", "string", "bool", "char")


class _Package:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        self.named: list[str] = []

    def fresh(self) -> str:
        while True:
            name = "-".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 6)))
            if name not in self.used:
                self.used.add(name)
                return f"%{name}"

    def ty(self, depth: int = 0, local: bool = True) -> str:
        rng = self.rng
        if local and self.named and rng.random() < 0.3:
            return rng.choice(self.named)
        if depth >= 3 or rng.random() < 0.5:
            return rng.choice(PRIMITIVES)

        def inner() -> str:
            return self.ty(depth + 1, local)

        kind = rng.choice(("list", "option", "result", "result-unit", "result-err", "tuple"))
        if kind == "list":
            return f"list<{inner()}>"
        if kind == "option":
            return f"option<{inner()}>"
        if kind == "result":
            return f"result<{inner()}, {inner()}>"
        if kind == "result-unit":
            return "result"
        if kind == "result-err":
            return f"result<_, {inner()}>"
        return "tuple<" + ", ".join(inner() for _ in range(rng.randint(1, 4))) + ">"

    def params(self, most: int) -> str:
        return ", ".join(f"{self.fresh()}: {self.ty()}" for _ in range(self.rng.randint(0, most)))

    def items(self) -> list[str]:
        rng = self.rng
        out = []
        for _ in range(rng.randint(1, 5)):
            kind = rng.choice(("record", "variant", "enum", "flags", "alias"))
            name = self.fresh()

            def many(n: int) -> list[str]:
                return [self.fresh() for _ in range(rng.randint(1, n))]

            if kind == "record":
                fields = ", ".join(f"{f}: {self.ty()}" for f in many(5))
                out.append(f"record {name} {{ {fields} }}")
            elif kind == "variant":
                cases = ", ".join(
                    c + (f"({self.ty()})" if rng.random() < 0.7 else "") for c in many(6)
                )
                out.append(f"variant {name} {{ {cases} }}")
            elif kind in ("enum", "flags"):
                out.append(f"{kind} {name} {{ {', '.join(many(8))} }}")
            else:
                out.append(f"type {name} = {self.ty()};")
            self.named.append(name)
        res = self.fresh()
        out.append(
            f"resource {res} {{ constructor({self.params(3)}); "
            f"{self.fresh()}: func({self.params(4)}) -> {self.ty()}; "
            f"{self.fresh()}: static func(a: borrow<{res}>) -> {self.ty()}; }}"
        )
        for _ in range(rng.randint(1, 5)):
            result = "" if rng.random() < 0.2 else f" -> {self.ty()}"
            out.append(f"{self.fresh()}: func({self.params(5)}){result};")
        return out


def random_wit(seed: int) -> str:
    pkg = _Package(seed)
    body = "\n    ".join(pkg.items())
    world_fn = f"{pkg.fresh()}: func(x: {pkg.ty(local=False)}) -> {pkg.ty(local=False)}"
    return (
        f"package stress:seed{seed}@1.0.0;\n\n"
        f"interface imp {{\n    {body}\n}}\n\n"
        f"interface exp {{\n    {body}\n}}\n\n"
        f"world w {{\n    import imp;\n    export exp;\n    export {world_fn};\n}}\n"
    )
