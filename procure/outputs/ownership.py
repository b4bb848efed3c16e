"""Which files in an output directory procure wrote: a manifest, so a run never deletes or overwrites anything else.

Every directory procure writes (a solve's outputs, a sweep's) holds ``procure-manifest.json``: the kind of
run and, per file procure wrote, its path relative to the directory and its SHA-256 (``null`` for a file
that grows while the run goes on, such as a sweep's ``results.csv``). A later run may replace exactly those
files, and only while their content is still what procure wrote. Anything else is the user's:

- a file not in the manifest is *foreign*: without ``force`` a run refuses the directory; with ``force`` it
  replaces its own files and leaves the foreign ones where they are, unless one stands where procure must
  write (then it refuses all the same);
- a file in the manifest whose content changed (the user edited ``report.md``) is the user's now: refused,
  with or without ``force``;
- a non-empty directory without a manifest is not a procure result: every file in it is foreign.

The manifest is written last, so a directory of a run killed part-way has none and is never taken for a
finished result.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

MANIFEST_FILE = "procure-manifest.json"
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # file browsers' own: never anyone's work
MANIFEST_FORMAT = 1


class OutputDirError(ValueError):
    """The output directory cannot be written without losing something procure did not write."""


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What procure wrote into one directory: ``files`` maps a relative POSIX path to its SHA-256, or to
    ``None`` where the content is not pinned (a journal that grows during the run)."""

    kind: str
    files: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"procure_manifest": MANIFEST_FORMAT, "kind": self.kind,
                           "files": dict(sorted(self.files.items()))}, indent=2) + "\n"


def read_manifest(directory: Path) -> Manifest | None:
    """The directory's manifest, or ``None`` when it has none (or one procure cannot read as its own)."""
    path = Path(directory) / MANIFEST_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(document, dict) and document.get("procure_manifest") == MANIFEST_FORMAT
            and isinstance(document.get("kind"), str) and isinstance(document.get("files"), dict)
            and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in document["files"].items())):
        return None
    return Manifest(document["kind"], dict(document["files"]))


def manifest_of(directory: Path, kind: str, grows: Iterable[str] = ()) -> Manifest:
    """A manifest of every file now under ``directory`` (digests taken), with the ``grows`` paths unpinned."""
    grows = set(grows)
    return Manifest(kind, {rel: None if rel in grows else digest(Path(directory) / rel)
                           for rel in files_under(directory)})


def write_manifest(directory: Path, manifest: Manifest) -> None:
    from procure.outputs.files import atomic_write_text  # (outputs imports this module)

    atomic_write_text(Path(directory) / MANIFEST_FILE, manifest.to_json())


def files_under(directory: Path) -> list[str]:
    """Every file under ``directory`` (symbolic links included, not followed) as a relative POSIX path,
    leaving out the manifest and file browsers' own files."""
    directory = Path(directory)
    found = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = Path(root, name).relative_to(directory).as_posix()
            if rel != MANIFEST_FILE and name not in SYSTEM_FILES:
                found.append(rel)
    return sorted(found)


@dataclass(frozen=True)
class Survey:
    """An existing directory's files, sorted by whose they are."""

    manifest: Manifest | None
    own: tuple[str, ...]  # in the manifest, content as procure wrote it
    changed: tuple[str, ...]  # in the manifest, content changed since
    foreign: tuple[str, ...]  # not in the manifest (every file, when there is no manifest)


def survey(directory: Path) -> Survey:
    manifest = read_manifest(directory)
    own, changed, foreign = [], [], []
    for rel in files_under(directory):
        path = Path(directory) / rel
        if manifest is None or rel not in manifest.files or path.is_symlink():
            foreign.append(rel)
        elif manifest.files[rel] is None or (path.is_file() and digest(path) == manifest.files[rel]):
            own.append(rel)
        else:
            changed.append(rel)
    return Survey(manifest, tuple(own), tuple(changed), tuple(foreign))


def _shown(paths: Iterable[str]) -> str:
    paths = list(paths)
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def check_writable(directory: Path, kind: str, force: bool = False, writes: Iterable[str] = (),
                   tolerate: Iterable[str] = ()) -> Survey | None:
    """Raise :class:`OutputDirError` unless a run of ``kind`` may write into ``directory``.

    ``writes``: the relative paths the run will write (a foreign file at one of them is refused even with
    ``force``). ``tolerate``: paths that are procure's whatever the manifest says (a sweep's empty lock
    file, there before its manifest). Returns the survey of an existing directory, ``None`` for a new one.
    """
    directory = Path(directory)
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise OutputDirError(f"{directory} is a file, not a directory")
    found = survey(directory)
    tolerate = set(tolerate)
    found = Survey(found.manifest, found.own + tuple(r for r in found.foreign if r in tolerate), found.changed,
                   tuple(r for r in found.foreign if r not in tolerate))
    if not (found.own or found.changed or found.foreign):
        return found  # empty
    if found.manifest is not None and found.manifest.kind != kind:
        raise OutputDirError(f"{directory} holds a {found.manifest.kind}'s outputs, not a {kind}'s: choose "
                             "another --out")
    if found.changed:
        raise OutputDirError(f"{directory}: {_shown(found.changed)} changed since procure wrote it; procure "
                             "overwrites only its own files as it wrote them: move it away or choose another --out")
    if found.foreign:
        what = ("is not a procure result" if found.manifest is None
                else "holds files procure did not write")
        clash = sorted(set(found.foreign) & set(writes))
        if clash:
            raise OutputDirError(f"{directory} {what}: {_shown(clash)} {'stands' if len(clash) == 1 else 'stand'} "
                                 f"where this {kind} writes; procure "
                                 "never overwrites a file it did not write: move it away or choose another --out")
        if not force:
            raise OutputDirError(f"{directory} {what} ({_shown(found.foreign)}): choose a new or empty --out, or "
                                 "--force to replace procure's own files there and leave the others")
    return found


def remove_own(directory: Path, manifest: Manifest | None, keep: Iterable[str] = ()) -> list[str]:
    """Delete the files of ``manifest`` under ``directory`` that are still as procure wrote them (except
    ``keep``), then the folders of those files that this leaves empty. Returns the files left in place:
    nothing of anyone else's is deleted."""
    directory = Path(directory)
    keep = set(keep)
    files = manifest.files if manifest is not None else {}
    folders = set()
    for rel, sha in files.items():
        path = directory / rel
        folders.update(p for p in Path(rel).parents if p != Path("."))
        if rel in keep or path.is_symlink() or not path.is_file():
            continue
        if sha is None or digest(path) == sha:
            path.unlink()
    for folder in sorted(folders, key=lambda p: -len(p.parts)) + [Path(".")]:  # deepest first
        path = directory / folder
        for name in SYSTEM_FILES:  # a file browser's, beside procure's files: not worth keeping a folder for
            (path / name).unlink(missing_ok=True)
        if folder == Path("."):
            continue
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
    return files_under(directory)
