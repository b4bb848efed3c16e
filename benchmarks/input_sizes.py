"""How validation time grows with the size of a bad input file.

    python -m benchmarks.input_sizes              # 1, 10 and 50 MB
    python -m benchmarks.input_sizes --mb 1 5

Each file is tiny.json with one site carrying unknown keys until the file reaches the size: the worst
case for reporting, one problem per key. The time is ``procure validate`` in a fresh process (start-up
included, so small files show its floor), run with ``PROCURE_MAX_INPUT_MB`` above the size; the
per-MB column shows whether the growth is linear.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bad_instance(megabytes: float, directory: Path) -> tuple[Path, int]:
    """tiny.json padded with unknown keys to ``megabytes``; returns its path and the number of keys."""
    doc = json.loads((ROOT / "instances" / "tiny.json").read_text())
    doc["catalogs"] = [str(ROOT / "models" / "accelerators.json")]
    base = len(json.dumps(doc))
    per_key = len('"typo_0000000": 0, ')  # one key with its separator
    keys = max(int((megabytes * 1e6 - base) / per_key), 1)
    doc["sites"][0].update({f"typo_{k:07d}": 0 for k in range(keys)})
    path = directory / f"bad-{megabytes:g}mb.json"
    path.write_text(json.dumps(doc))
    return path, keys


def time_validate(path: Path) -> tuple[float, int, str]:
    env = {**os.environ, "PROCURE_MAX_INPUT_MB": str(path.stat().st_size / 1e6 + 1)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "procure.cli", "validate", str(path)], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - started
    first = done.stderr.splitlines()[0] if done.stderr else ""
    return seconds, done.returncode, first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1.0, 10.0, 50.0])
    args = parser.parse_args(argv)
    print("| file (MB) | unknown keys | exit | seconds | seconds per MB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in args.mb:
            path, keys = bad_instance(megabytes, Path(tmp))
            size = path.stat().st_size / 1e6
            seconds, code, _ = time_validate(path)
            print(f"| {size:.3g} | {keys:,} | {code} | {seconds:.1f} | {seconds / size:.2f} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
