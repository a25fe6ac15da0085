"""Which YAML composer reads a manifest: libyaml while a text cannot hold more than MAX_NODES
nodes, PyYAML's bounded one otherwise, and the bound that decides it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svccheck.grammar import source
from svccheck.grammar.source import MAX_NODES, load_source, most_nodes


def composed_nodes(text: str) -> int:
    """The nodes PyYAML's composer visits for `text` (aliases counted once each, unexpanded)."""
    loader = source._BoundedLoader(text)
    try:
        loader.get_single_node()
        return loader.composed
    finally:
        loader.dispose()


TRICKY = [
    "a: b",
    "{a, b, c}",
    "{a: , b: }",
    "[a: b, c: d]",
    "[? a, ? b]",
    "{? a, ? b}",
    "- a: b\n  c: d\n- e: f",
    "- - - - a",
    "- ? \n- ? a\n  : b",
    "? - a\n  - b\n: - c",
    "[[[[a: b]]]]",
    "x: &a [1, 2]\ny: [*a, *a, *a]\nz: *a",
    "- &a {k: v}\n- *a\n- *a",
    "!!map {!!str a: !!seq [!!null , !!int 1]}",
    "a: |\n  literal\n  lines\nb: >\n  folded\n",
    "---\na: 1\n...\n",
    "",
    "plain",
]


@pytest.mark.parametrize("text", TRICKY)
def test_no_text_composes_more_nodes_than_the_bound(text: str) -> None:
    assert composed_nodes(text) <= most_nodes(text)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(alphabet=st.sampled_from("ab -:?,[]{}#&*!|>'\"\n"), max_size=6),
)
trees: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(alphabet="ab-:?", min_size=1, max_size=3), children, max_size=4),
    ),
    max_leaves=30,
)


@given(tree=trees, flow=st.sampled_from([True, False, None]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_dumped_document_composes_more_nodes_than_the_bound(tree: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(tree, default_flow_style=flow)
    assert composed_nodes(text) <= most_nodes(text)


def fleet_manifest(services: int, checks: int) -> str:
    lines = ["version: 1", "services:"]
    for service in range(services):
        lines += [f"  svc-{service:02}:", f'    url: "http://127.0.0.1:{20000 + service}"', "    checks:"]
        lines += [f"      - path: /check/{check:03}" for check in range(checks)]
    return "\n".join(lines) + "\n"


def test_a_ten_thousand_check_manifest_is_composed_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    if source._FastLoader is None:
        pytest.skip("PyYAML is built without libyaml here")
    text = fleet_manifest(100, 100)
    assert len(text) > 200 * 1024  # once above 64 KiB, the slow composer read it (1.76 s)
    expected = source._load(text, source._BoundedLoader)

    class Refused(source._BoundedLoader):
        def __init__(self, stream: str) -> None:
            raise AssertionError("the bounded pure-Python composer was used")

    monkeypatch.setattr(source, "_BoundedLoader", Refused)
    loaded = load_source(text)
    assert loaded.issues == []
    assert loaded.data == expected.data
    assert len(loaded.data["services"]["svc-99"]["checks"]) == 100
    last_path = ("services", "svc-99", "checks", 99, "path")
    assert loaded.positions.values[last_path] == expected.positions.values[last_path]


def test_a_text_of_one_node_per_character_goes_to_the_bounded_composer() -> None:
    text = "{" + ",".join("a" for _ in range(MAX_NODES)) + "}"  # 200,001 characters
    assert most_nodes(text) > MAX_NODES
    loaded = load_source(text)
    assert [issue.message for issue in loaded.issues] == [f"document has more than {MAX_NODES} values"]
