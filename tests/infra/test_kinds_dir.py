"""``-c kinds_dir=PATH``: the user's kind modules go into the image, the runtime names them, and a
module that would keep the runtime from starting on AWS stops synth with one line instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcore_async.cdk.image_source import KindsDirError, stage_image_source
from agentcore_async.contract import EnvVar
from tests.agent.test_readme_kind import readme_example
from tests.infra.synth import AllSynths, only, synthesize
from tests.infra.test_app_cli import run_app


def _kinds_dir(root: Path, **modules: str) -> Path:
    kinds = root / "kinds"
    kinds.mkdir()
    for name, source in modules.items():
        (kinds / f"{name}.py").write_text(source, encoding="utf-8")
    return kinds


def _runtime_environment(template: dict[str, object]) -> dict[str, object]:
    runtime = only(template, "AWS::BedrockAgentCore::Runtime")["Properties"]
    environment: dict[str, object] = runtime["EnvironmentVariables"]
    return environment


def test_a_kinds_dir_goes_into_the_image_and_the_runtime_names_its_kinds(tmp_path: Path) -> None:
    kinds = _kinds_dir(tmp_path, word_count=readme_example(), _shared="SEPARATOR = ' '\n")
    synth = synthesize("dev", "development", tmp_path / "cdk.out", {"kinds_dir": str(kinds)})
    assert not synth.nag_findings
    assert _runtime_environment(synth.template("Runtime"))[EnvVar.EXTRA_KINDS] == "kinds.word_count"
    tag = only(synth.template("Image"), "Custom::AgentImageBuild")["Properties"]["SourceHash"]
    staged = synth.outdir / f"asset.{tag}"
    assert (staged / "user_kinds" / "kinds" / "word_count.py").read_text() == readme_example()
    assert (staged / "user_kinds" / "kinds" / "_shared.py").is_file()  # helpers travel, are no kind
    assert (staged / "user_kinds" / "KINDS.txt").read_text() == "kinds.word_count\n"


def test_without_a_kinds_dir_the_runtime_names_no_extra_kind(synthesized: AllSynths) -> None:
    for synth in synthesized.values():
        assert EnvVar.EXTRA_KINDS not in _runtime_environment(synth.template("Runtime"))


def test_a_kind_module_that_does_not_import_stops_synth_with_one_line(tmp_path: Path) -> None:
    kinds = _kinds_dir(tmp_path, broken="import not_a_module_anywhere\n")
    result = run_app({"stage": "dev", "kinds_dir": str(kinds)}, tmp_path / "cdk.out")
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "error: kind module kinds.broken does not import: ModuleNotFoundError: "
        "No module named 'not_a_module_anywhere'"
    ]


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ({"plain": "VALUE = 1\n"}, "kind module kinds.plain defines no KIND = TaskKind(...)"),
        (
            {"one": readme_example(), "two": readme_example()},
            "kind module kinds.two: kind 'word_count' is also defined by kinds.one",
        ),
        ({"_only_a_helper": "X = 1\n"}, "holds no kind module (*.py)"),
    ],
    ids=["no-kind", "same-name", "no-module"],
)
def test_kind_modules_are_checked_as_the_image_holds_them(
    tmp_path: Path, modules: dict[str, str], message: str
) -> None:
    kinds = _kinds_dir(tmp_path, **modules)
    with pytest.raises(KindsDirError) as refused:
        stage_image_source(tmp_path / "context", [kinds])
    assert str(refused.value).endswith(message)


@pytest.mark.parametrize("name", ["agent", "agentcore_async", "my-kinds"])
def test_a_kinds_dir_may_not_take_a_name_the_image_uses_or_python_cannot_import(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / name / "k.py").write_text(readme_example())
    with pytest.raises(KindsDirError, match="its name must be a Python identifier other than"):
        stage_image_source(tmp_path / "context", [tmp_path / name])
