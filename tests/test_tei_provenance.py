"""Accepted codebook suggestions carry their provenance into the TEI `@resp`: the annotator,
the application whose codebook suggested it, and who decided on it; import reads the
annotator back, so hand-made and accepted annotations can be told apart in the export."""

from __future__ import annotations

import json
from pathlib import Path

from annotate.markup import TEI_NS, etree
from tests.conftest import SEEDS
from tests.test_cli_annotations import added_id, ok


def test_accepted_suggestion_resp_names_codebook_and_decider(tmp_path: Path) -> None:
    ok("suggest", str(SEEDS), "--user", "alice")
    suggested = json.loads(ok("list", "--status", "suggested", "--json"))["annotations"]
    accepted, rejected = suggested[0]["id"], suggested[1]["id"]
    ok("accept", accepted, "--user", "bob")
    ok("reject", rejected, "--user", "bob")
    by_hand = added_id(ok("add", "002", "--span", "0:9", str(SEEDS), "--user", "carol"))
    out = tmp_path / "seeds.xml"
    ok("export", str(SEEDS), "--no-reuse", "--out", str(out))

    root = etree.parse(str(out)).getroot()
    resp = {s.get("n"): s.get("resp") for s in root.iterfind(
        f".//{{{TEI_NS}}}spanGrp[@type='annotation']/{{{TEI_NS}}}span")}
    assert resp[accepted] == "#user.alice #app.annotate #user.bob"
    assert resp[rejected] == "#user.alice #app.annotate #user.bob"
    assert resp[by_hand] == "#user.carol"
    pending = suggested[2]["id"]
    assert resp[pending] == "#user.alice"  # nobody has decided on it yet

    # Read back into a fresh store: the annotator is the first pointer.
    other = tmp_path / "other.sqlite"
    ok("import", str(out), str(SEEDS), "--store", str(other))
    users = {a["id"]: a["user"] for a in json.loads(
        ok("list", "--json", "--store", str(other)))["annotations"]}
    assert users[accepted] == "alice" and users[by_hand] == "carol"
    from tests.test_tei_schema import assert_valid

    assert_valid(root)
