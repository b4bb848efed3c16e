"""benchmarks/time_limits.py runs end to end on a small instance."""

from __future__ import annotations


def test_the_time_limit_benchmark_reports_a_row_per_run(capsys):
    from benchmarks.time_limits import main

    main(["--instance", "tiny", "--limits", "5", "--strategies", "direct"])
    row = capsys.readouterr().out.splitlines()[-1]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:6] == ["5", "direct", "no", "0", "optimal", "0.0e+00"]  # tiny.json solves at once
    assert float(cells[7]) > float(cells[6])  # the wall time includes start-up
