"""Templates that extend one another: tables merged key by key with the child winning, other
values replaced whole, base files never loaded as templates of their own."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from parsing.templates import TEMPLATE_DIR, load_template, merge_tables, template_data, templates

BASE = """
page_kind = "detainer_p1"
priority = 100
stop_labels = ["(date)."]

[match]
keywords = ["BASE TITLE"]
min_labels = 4

[fields.subject_id]
labels = ["Subject ID:"]
parser = "identifier"

[fields.sex]
labels = ["Sex:"]
parser = "sex"

[[checkboxes]]
field = "probable_cause"
value = "final_order"
anchors = ["a final order"]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_child_overrides_its_base_key_by_key(tmp_path: Path) -> None:
    _write(tmp_path, "_base", BASE)
    child = _write(tmp_path, "child", """
extends = "_base"
name = "child"
priority = 90

[match]
keywords = ["CHILD TITLE"]

[fields.sex]
row_with = "Citizenship:"

[fields.officer_name]
labels = ["(Name of Officer)"]
layout = "above"

[[checkboxes]]
field = "cancels_previous"
anchors = ["If checked"]
""")
    template = load_template(child)
    assert (template.name, template.page_kind, template.priority) == ("child", "detainer_p1", 90)
    assert template.keywords == ("CHILD TITLE",)  # an array: replaced
    assert template.min_labels == 4  # a table: the base's other keys stay
    assert template.stop_labels == ("(date).",)
    fields = {spec.name: spec for spec in template.fields}
    assert list(fields) == ["subject_id", "sex", "officer_name"]  # the base's order, new keys after
    assert (fields["sex"].labels, fields["sex"].parser, fields["sex"].row_with) == (("Sex:",), "sex", "Citizenship:")
    assert fields["officer_name"].layout == "above"
    assert [box.field for box in template.checkboxes] == ["cancels_previous"]  # an array of tables: replaced


def test_merge_rule_on_plain_tables() -> None:
    base = {"a": 1, "t": {"x": 1, "y": {"p": 1, "q": 2}}, "l": [1, 2]}
    over = {"t": {"y": {"q": 3}, "z": 4}, "l": [9], "b": 2}
    assert merge_tables(base, over) == {"a": 1, "t": {"x": 1, "y": {"p": 1, "q": 3}, "z": 4}, "l": [9], "b": 2}
    assert base == {"a": 1, "t": {"x": 1, "y": {"p": 1, "q": 2}}, "l": [1, 2]}  # the base is not changed


def test_extends_chains_and_refuses_circles_and_paths(tmp_path: Path) -> None:
    _write(tmp_path, "_base", BASE)
    _write(tmp_path, "_middle", 'extends = "_base"\npriority = 50\n')
    leaf = _write(tmp_path, "leaf", 'extends = "_middle"\nname = "leaf"\n')
    assert (load_template(leaf).priority, load_template(leaf).keywords) == (50, ("BASE TITLE",))
    _write(tmp_path, "_loop", 'extends = "loop"\n')
    loop = _write(tmp_path, "loop", 'extends = "_loop"\nname = "loop"\npage_kind = "other"\n')
    with pytest.raises(ValueError, match="extends itself"):
        load_template(loop)
    outside = _write(tmp_path, "outside", 'extends = "../_base"\nname = "outside"\n')
    with pytest.raises(ValueError, match="extends names"):
        load_template(outside)


def test_base_files_are_not_templates(tmp_path: Path) -> None:
    _write(tmp_path, "_base", BASE)
    _write(tmp_path, "child", 'extends = "_base"\nname = "child"\n')
    assert [t.name for t in templates(str(tmp_path))] == ["child"]
    assert "_i247" not in {t.name for t in templates()}


def test_the_i247_family_shares_its_base_and_keeps_its_differences() -> None:
    family = {t.name: t for t in templates() if t.name.startswith("i247")}
    assert sorted(family) == ["i247a", "i247d", "i247n", "i247x"]
    for name in family:
        assert tomllib.loads((TEMPLATE_DIR / f"{name}.toml").read_text(encoding="utf-8"))["extends"] == "_i247"
        assert "extends" not in template_data(TEMPLATE_DIR / f"{name}.toml")  # resolved when read
    specs = {name: {spec.name: spec for spec in t.fields} for name, t in family.items()}
    for name in ("i247a", "i247n", "i247x"):
        assert list(specs[name]) == list(specs["i247d"])
        differing = {field for field in specs["i247d"] if specs[name][field] != specs["i247d"][field]}
        assert differing == {"i247a": {"subject_name", "sex"}, "i247n": {"citizenship"},
                             "i247x": {"citizenship"}}[name]
    assert specs["i247n"]["citizenship"].labels[0] == "Suspected Citizenship:"
    assert specs["i247a"]["sex"].row_with == "Citizenship:" and specs["i247d"]["sex"].row_with is None
    boxes = {name: [(box.field, box.value) for box in t.checkboxes] for name, t in family.items()}
    assert boxes["i247d"] == boxes["i247n"] == boxes["i247x"]
    assert boxes["i247a"] == [*boxes["i247d"][:4], ("transferred_for_proceeding", None), *boxes["i247d"][4:]]
    assert family["i247a"].checkbox_groups and not family["i247d"].checkbox_groups
    assert [family[name].priority for name in sorted(family)] == [100, 100, 90, 90]
