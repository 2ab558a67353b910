"""Building, writing and checking the report's files; the command line."""

from __future__ import annotations

import pytest

from report.__main__ import ReadmeError, build, main, stale, write
from tests.report.synthetic import setup

DOCS = "docs/discrepancies.md"


def test_two_builds_give_the_same_bytes_wherever_they_run(tmp_path):
    root, rec, reg = setup(tmp_path / "a")
    first = build(root, rec, reg).files
    assert build(root, rec, reg).files == first
    other_root, other_rec, other_reg = setup(tmp_path / "elsewhere")
    assert build(other_root, other_rec, other_reg).files == first
    for text in first.values():
        assert str(tmp_path) not in text
        assert "3.99.1" not in text  # the suite records' Python version


def test_check_names_each_stale_file_with_a_diff(tmp_path):
    root, rec, reg = setup(tmp_path)
    files = build(root, rec, reg).files
    write(root, files)
    assert stale(root, files) == {}
    path = root / DOCS
    path.write_text(path.read_text().replace("Summary matrix", "Old matrix"))
    (root / "docs/report.html").unlink()
    found = stale(root, files)
    assert set(found) == {DOCS, "docs/report.html"}
    assert "-## Old matrix" in found[DOCS]
    assert "+## Summary matrix" in found[DOCS]
    assert "does not exist" in found["docs/report.html"]


def test_the_readme_changes_only_between_its_markers(tmp_path):
    root, rec, reg = setup(tmp_path)
    before = (root / "README.md").read_text()
    after = build(root, rec, reg).files["README.md"]
    assert after.startswith("# project\n\nIntro.\n")
    assert after.endswith("<!-- report:same-padding:end -->\n\n## More\n")
    assert "[avg-divisor](docs/discrepancies.md#avg-divisor)" in after
    assert before != after


def test_a_readme_without_markers_is_an_error(tmp_path):
    root, rec, reg = setup(tmp_path)
    (root / "README.md").write_text("# project\n")
    with pytest.raises(ReadmeError, match="report:summary:start"):
        build(root, rec, reg)


def _cli(command, root, rec):
    return main([command, "--root", str(root), "--records", str(rec)])


def test_check_fails_until_build_has_written_the_files(tmp_path, monkeypatch, capsys):
    root, rec, reg = setup(tmp_path)
    monkeypatch.setenv("CONFORMANCE_REGISTRY", str(reg))
    assert _cli("check", root, rec) == 1
    assert f"STALE: {DOCS}" in capsys.readouterr().err
    assert _cli("build", root, rec) == 0
    assert _cli("check", root, rec) == 0
    assert "up to date" in capsys.readouterr().out


def test_missing_records_fail_with_the_files_and_sessions(tmp_path, monkeypatch, capsys):
    root, rec, reg = setup(tmp_path)
    monkeypatch.setenv("CONFORMANCE_REGISTRY", str(reg))
    (rec / "probes-mxnet.json").unlink()
    assert _cli("check", root, rec) == 1
    err = capsys.readouterr().err
    assert "probes-mxnet.json" in err
    assert 'nox -s "mxnet"' in err


def test_problems_fail_the_build_but_the_report_shows_them(tmp_path, monkeypatch, capsys):
    problem = "unregistered difference: x.op:case on x 1.0: verdict differs"
    root, rec, reg = setup(tmp_path, problems={"tensorflow": [problem]})
    monkeypatch.setenv("CONFORMANCE_REGISTRY", str(reg))
    assert _cli("build", root, rec) == 1
    assert problem in capsys.readouterr().err
    text = (root / DOCS).read_text()
    assert text.index("## Problems") < text.index("## Summary matrix")
    assert problem in text
    assert _cli("check", root, rec) == 1
