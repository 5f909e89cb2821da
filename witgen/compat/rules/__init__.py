"""The compatibility rules, one function per rule, grouped by what they compare.

`world`: imports and exports; `interface`: functions, types and resources of an interface;
`function`: signatures; `types`: type definitions, fields and cases; `docs`: documentation and
stability attributes; `package`: the declared package version and the worlds of a package.
"""
