"""Write a solve's outputs atomically, and only over procure's own files (:mod:`procure.outputs.ownership`)."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from procure.outputs.ownership import (MANIFEST_FILE, Manifest, OutputDirError, check_writable, manifest_of,
                               read_manifest, remove_own, write_manifest)

SUMMARY_FILE = "summary.json"
TABLE_FILES = {"capacity": "capacity.csv", "plan": "plan.csv", "costs": "costs.csv", "decisions": "decisions.csv"}
REPORT_INPUTS = ("sources.csv", "power.csv")  # what the plots need beyond the core tables (not with --no-report)
ANALYSIS_FILES = {"explain": "explain.json", "marginal_costs": "marginal_costs.csv", "binding": "binding.csv",
                  "break_even": "break_even.csv", "baselines": "baselines.csv"}
REPORT_FILES = ("report.md", "report.html")
PLOTS_DIR = "plots"
PLOT_FILES = {
    "capacity": "capacity_by_source.png",
    "fan": "scenario_fan.png",
    "spend": "spend_per_year.png",
    "power": "power_per_site.png",
    "leases": "lease_timeline.png",
}
"""The report's figures, under ``plots/`` (procure.report.plots draws them)."""
OUTPUT_NAMES = frozenset({SUMMARY_FILE, *TABLE_FILES.values(), *REPORT_INPUTS, *ANALYSIS_FILES.values(),
                          *REPORT_FILES, *(f"{PLOTS_DIR}/{name}" for name in PLOT_FILES.values())})
"""Every path a solve may write into its output directory (besides the manifest)."""
FLOAT_FORMAT = "%.6f"
KIND = "solve"
STAGING_TAG, OLD_TAG = "procure-tmp", "procure-old"


def output_target(out_dir: Path) -> Path:
    """The directory a solve writes to: ``out_dir``, or where it points when it is a symbolic link (the
    link is kept and points at the new outputs)."""
    out_dir = Path(out_dir)
    return Path(os.path.realpath(out_dir)) if out_dir.is_symlink() else out_dir


LOCK_WAIT_SECONDS = 600.0
"""How long a write waits for another procure run writing beside it before it gives up."""


@contextlib.contextmanager
def writers_lock(out_dir: Path, exclusive: bool = True):
    """Serialise procure's writers (and the checks that read what they write) in ``out_dir``'s parent
    folder (its nearest folder that exists): the kernel's ``flock`` on it, exclusive to write, shared to
    check. It goes with the process, so a killed run holds none. Without it, two solves writing one
    ``--out`` in a loop failed 184 times in 400 ("changed since procure wrote it") and left an old
    directory behind. Waiting, it says so on stderr once; after :data:`LOCK_WAIT_SECONDS`,
    :class:`OutputDirError`."""
    try:
        import fcntl
    except ImportError:  # not POSIX: unlocked, as before
        yield
        return
    # the nearest folder that exists: a new --out's parent may not yet (it is made under the lock)
    parent = next(p for p in Path(out_dir).absolute().parents if p.is_dir())
    descriptor = os.open(parent, os.O_RDONLY)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            import sys
            import time

            print(f"procure: waiting for another procure run writing in {parent}", file=sys.stderr, flush=True)
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                time.sleep(0.05)
                try:
                    fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OutputDirError(f"{out_dir}: another procure run has been writing in {parent} for "
                                             f"{LOCK_WAIT_SECONDS:g} s; try again when it has finished") from None
        except OSError:  # a file system without locks (some network mounts): unlocked
            pass
        yield
    finally:
        os.close(descriptor)  # releases the lock


def check_output_dir(out_dir: Path, force: bool = False, report: bool = True, lock: bool = True):
    """Raise :class:`OutputDirError` unless a solve may write into ``out_dir`` (before solving: a solve that
    cannot write its outputs is wasted).

    It may when ``out_dir`` is new, empty, or an earlier solve's outputs as procure wrote them
    (:mod:`procure.outputs.ownership`); with ``force``, also when it holds files of someone else's that stand
    nowhere a solve writes (they are left in place). Never the current directory. ``lock``: read under the
    writers' shared lock (:func:`writers_lock`), so that a write in progress is not mistaken for an edit.
    """
    if lock:
        with writers_lock(output_target(out_dir), exclusive=False):
            return check_output_dir(out_dir, force, report, lock=False)
    out_dir = output_target(out_dir)
    if not out_dir.exists():
        ancestor = next(p for p in out_dir.absolute().parents if p.exists())  # the root always exists
        if not ancestor.is_dir():
            raise OutputDirError(f"{out_dir} cannot be made: {ancestor} is a file")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise OutputDirError(f"{out_dir} cannot be made: {ancestor} is not writable")
        return None
    here, target = Path.cwd().resolve(), out_dir.resolve()
    if out_dir.is_dir() and (target == here or target in here.parents):
        raise OutputDirError(f"{out_dir} is the current directory (or holds it): choose another --out")
    writes = OUTPUT_NAMES if report else {SUMMARY_FILE, *TABLE_FILES.values()}
    return check_writable(out_dir, KIND, force, writes)


def has_tables(summary: dict) -> bool:
    """A solve's outputs hold plan tables: a plan of the instance (``has_plan``), or an infeasible one's
    relaxed plan, which shows what had to give (``has_relaxed_plan``)."""
    return bool(summary.get("has_plan") or summary.get("has_relaxed_plan"))


def write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def honour_umask(path: Path, directory: bool) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would have: ``tempfile`` makes its files 0600 and
    its directories 0700 whatever the umask, and a rename keeps that mode."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def atomic_write_text(path: Path, text: str) -> None:
    """Write one file via a temporary sibling and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        honour_umask(Path(tmp), directory=False)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_directory(out_dir: Path, summary: dict, tables: dict[str, pd.DataFrame], extra=None,
                    force: bool = False) -> Path:
    """Write ``summary.json``, the tables and whatever ``extra(staging_dir)`` adds (plots, reports) into
    ``out_dir``, replacing the earlier solve's files there.

    Everything is written into a hidden sibling staging directory first, so a failure part-way leaves the
    previous outputs untouched. Then, when ``out_dir`` holds only procure's own files, the staging directory
    takes its place in one rename; with ``force`` and files of someone else's there, procure's files are
    replaced one by one and the others stay. Raises :class:`OutputDirError` (before writing anything) when
    the directory cannot be written without losing a file procure did not write (:func:`check_output_dir`).
    """
    with writers_lock(output_target(out_dir)):
        return _write_directory(out_dir, summary, tables, extra, force)


def _write_directory(out_dir: Path, summary: dict, tables: dict[str, pd.DataFrame], extra, force: bool) -> Path:
    check_output_dir(out_dir, force, report=extra is not None, lock=False)  # fails early; again once staged
    out_dir = output_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(out_dir)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.{STAGING_TAG}-{os.getpid()}-"))
    try:
        honour_umask(staging, directory=True)
        write_json(summary, staging / SUMMARY_FILE)
        for name, frame in tables.items():
            write_table(frame, staging / TABLE_FILES[name])
        if extra is not None:
            extra(staging)
        new = manifest_of(staging, KIND)
        # again, with the exact names: files may have appeared or changed while the solve ran
        found = check_writable(out_dir, KIND, force, writes=new.files)
        if found is not None and found.foreign:
            _replace_in_place(out_dir, staging, new, found.manifest)
            shutil.rmtree(staging, ignore_errors=True)
        else:
            write_manifest(staging, new)  # last: a staging directory without it is an unfinished run's
            _swap(out_dir, staging, found.manifest if found is not None else None)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _swap(out_dir: Path, staging: Path, previous: Manifest | None) -> None:
    """``staging`` takes ``out_dir``'s place; of the old directory, procure's own files are deleted and
    anything else (a file that appeared since the check, an empty folder) is moved back."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.{OLD_TAG}-{os.getpid()}"
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    if old is None:
        return
    remove_own(old, previous)
    (old / MANIFEST_FILE).unlink(missing_ok=True)
    for entry in list(old.iterdir()):
        if not (out_dir / entry.name).exists():
            os.replace(entry, out_dir / entry.name)
    try:
        old.rmdir()
    except OSError:  # something of someone else's collided with a new output: kept where it is, whole
        pass


def _replace_in_place(out_dir: Path, staging: Path, new: Manifest, previous: Manifest | None) -> None:
    """Move each staged file over its place in ``out_dir``, delete procure's own files that this solve no
    longer writes, leave every other file alone. The manifest first names every path involved unpinned, so
    a run killed half-way leaves a directory whose files are still known as procure's."""
    old_files = previous.files if previous is not None else {}
    write_manifest(out_dir, Manifest(KIND, {rel: None for rel in {*old_files, *new.files}}))
    for rel in new.files:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)
    remove_own(out_dir, Manifest(KIND, {k: v for k, v in old_files.items() if k not in new.files}))
    write_manifest(out_dir, new)


def clean_stale_staging(out_dir: Path) -> None:
    """Delete the staging directories that killed solves into ``out_dir`` left beside it (their process is
    gone), and procure's own files in old directories they had not yet removed; an old directory whose
    solve was killed before its new one took its place becomes ``out_dir`` again."""
    out_dir = Path(out_dir)
    for path in out_dir.parent.glob(f".{glob.escape(out_dir.name)}.procure-*"):
        match = re.fullmatch(rf"\.{re.escape(out_dir.name)}\.({STAGING_TAG}|{OLD_TAG})-(\d+)(-.*)?", path.name)
        if match is None or not path.is_dir() or path.is_symlink() or _alive(int(match.group(2))):
            continue
        if match.group(1) == STAGING_TAG:  # made by mkdtemp for procure's files alone
            shutil.rmtree(path, ignore_errors=True)
        elif not out_dir.exists() and read_manifest(path) is not None:
            # killed between the two renames of _swap: the old directory is the last whole result
            os.replace(path, out_dir)
        else:
            remove_own(path, read_manifest(path))
            (path / MANIFEST_FILE).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.rmdir()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
