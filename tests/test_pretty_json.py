"""The JSON and SARIF reports are written by reporters/pretty.py, which must give exactly what
`json.dumps(value, indent=2)` gives (golden files, and every consumer's parser, rely on it)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from validator.reporters.pretty import Lazy, dumps

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(documents, st.booleans(), st.integers(min_value=0, max_value=5))
def test_same_text_as_json_dumps_with_indent_2(value, ensure_ascii, depth):
    assert dumps(value, ensure_ascii=ensure_ascii, depth=depth) == json.dumps(value, indent=2, ensure_ascii=ensure_ascii)


def test_lazy_lists_are_written_as_arrays_and_made_on_each_write():
    made = []

    def findings():
        made.append(1)
        return ({"id": i, "tags": ["a", "b"]} for i in range(3))

    document = {"findings": Lazy(findings), "none": Lazy(lambda: iter(()))}
    expected = json.dumps({"findings": list(findings()), "none": []}, indent=2)
    assert dumps(document) == expected
    assert dumps(document) == expected
    assert len(made) == 3
