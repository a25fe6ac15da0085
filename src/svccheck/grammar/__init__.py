"""The manifest's grammar, below the protocols that speak it.

How a key is declared, read with its position and described in the JSON Schema
(`shape`, `tokens`), the keys every service and check has (`schema`), how
settings layer (`settings`), what a protocol declares of its own (`protocol`:
`ProtocolShape`, an allow-list), and how problems are collected with their
`FILE:LINE:COL` (`source`, `issues`, `errors`). A protocol module declares its
shape from these; `svccheck.manifest`, above the protocols, reads a file with
every protocol's shape.
"""
