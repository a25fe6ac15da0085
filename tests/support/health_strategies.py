"""Hypothesis strategies for health responses: the content types they come with, any JSON, and
JSON shaped like the health formats (`health_bodies`)."""

from __future__ import annotations

from hypothesis import strategies as st

HEALTH_JSON = "application/health+json"

CONTENT_TYPES = st.sampled_from(
    [None, HEALTH_JSON, "text/plain", "application/json; charset=latin-1", "text/plain; charset=bogus"]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=40,
)

# Values shaped like the formats, so the fuzzing reaches the format readers
# instead of stopping at "not a status word".
health_words = st.sampled_from(
    ["UP", "DOWN", "ok", "error", "pass", "warn", "fail", "Healthy", "Degraded", "up", "down", "???"]
)
health_nodes = st.recursive(
    st.fixed_dictionaries({"status": health_words | json_values}),
    lambda children: st.fixed_dictionaries(
        {"status": health_words},
        optional={
            "components": st.dictionaries(st.text(max_size=8), children, max_size=4),
            "details": st.dictionaries(st.text(max_size=8), children | json_values, max_size=4),
            "output": json_values,
        },
    ),
    max_leaves=30,
)
health_bodies = st.fixed_dictionaries(
    {"status": health_words | json_values},
    optional={
        "checks": st.dictionaries(st.text(max_size=8), st.lists(health_nodes, max_size=3) | health_nodes)
        | st.lists(health_nodes | json_values, max_size=4),
        "components": st.dictionaries(st.text(max_size=8), health_nodes | json_values, max_size=4),
        "details": st.dictionaries(st.text(max_size=8), health_nodes | json_values, max_size=4),
        "info": st.dictionaries(st.text(max_size=8), health_nodes | json_values, max_size=3) | json_values,
        "error": st.dictionaries(st.text(max_size=8), health_nodes | json_values, max_size=3) | json_values,
        "entries": st.dictionaries(st.text(max_size=8), health_nodes | json_values, max_size=4),
        "groups": st.lists(st.text(max_size=5), max_size=2),
        "healthy": st.booleans(),
    },
)
