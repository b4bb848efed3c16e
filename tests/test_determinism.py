"""The same input solved twice gives the same outputs, byte for byte (timings aside)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from procure.cli import EXIT_OK, app


@pytest.mark.parametrize("instance", ["tiny.json", "small.json"])
def test_the_same_input_twice_gives_byte_identical_outputs(root, tmp_path, instance):
    runs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        result = CliRunner().invoke(app, ["solve", str(root / "instances" / instance), "--out", str(out),
                                          "--no-report"])
        assert result.exit_code == EXIT_OK, result.output
        runs.append(out)
    first, second = runs
    for name in ("plan.csv", "capacity.csv", "costs.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    summaries = [json.loads((out / "summary.json").read_text()) for out in runs]
    for summary in summaries:
        summary.pop("seconds")  # wall-clock times, the one thing that differs
        for stage in summary.get("stages", []):
            stage.pop("seconds")
    assert summaries[0] == summaries[1]
