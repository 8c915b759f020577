"""Replacing a folder atomically: fill a new sibling, then move it into place with renames.

:func:`replace_folder` has the new folder filled in ``.<name>.refine-tmp-<random>``, then moves it
to ``<name>`` with one rename when nothing (or an empty folder) is there, or else with two: the old
folder to ``.<name>.refine-old-<random>``, the new one to ``<name>``; then the old one is removed.
What an interruption leaves:

- an error or Ctrl-C while filling: the temporary folder is removed, the old folder untouched;
- a kill (SIGKILL, power cut) while filling: the old folder and a stale temporary folder;
- Ctrl-C between the two renames: the old folder is renamed back; a kill there: no ``<name>``, the
  old folder in ``.<name>.refine-old-*`` (:func:`leftovers` finds it, so a reader can name it and
  the ``mv`` that restores it) and the new one in the temporary folder;
- a kill after them: the new folder and the old one, not yet removed.

A replacement holds an exclusive ``flock`` on its temporary folder and on the folder it replaces,
so a folder of either name that no process has locked is a leftover, and the next successful
replacement of the same folder removes it. Without ``fcntl`` (Windows) leftovers are only named in
a warning. Nothing is fsynced: files cut short by a power cut must fail the reader's own checks.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from refine.errors import RuntimeFailure
from refine.retrieval._damage import one_line

if sys.platform != "win32":
    import fcntl

__all__ = ["REPLACED", "STAGED", "leftovers", "replace_folder"]

logger = logging.getLogger(__name__)

STAGED = ".refine-tmp-"
REPLACED = ".refine-old-"

T = TypeVar("T")


def _sibling(target: Path, mark: str) -> Path:
    return target.with_name(f".{target.name}{mark}{secrets.token_hex(4)}")


def leftovers(target: Path, mark: str) -> list[Path]:
    """The folders named ``.<name><mark>*`` beside ``target``, oldest name first."""
    prefix = f".{target.name}{mark}"
    try:
        return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.is_dir())
    except OSError:  # no parent folder, so no leftovers
        return []


def _try_lock(folder: Path) -> int | None:
    """A descriptor of ``folder`` holding its exclusive lock, or None while another process holds it."""
    if sys.platform == "win32":
        raise NotImplementedError("folder locks need fcntl")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _remove(folder: Path, why: str) -> bool:
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        return False
    except OSError as exc:
        logger.warning("could not remove %s (%s), %s; delete it by hand", folder, one_line(exc), why)
        return False
    return True


def _remove_leftovers(target: Path) -> None:
    """Remove the folders that interrupted saves to ``target`` left behind and no save is using."""
    for leftover in (*leftovers(target, STAGED), *leftovers(target, REPLACED)):
        if sys.platform == "win32":
            logger.warning("%s is left over from an interrupted save; delete it when no save is running", leftover)
            continue
        try:
            fd = _try_lock(leftover)
        except OSError:  # removed meanwhile
            continue
        if fd is None:  # a save in progress holds it
            continue
        try:
            if _remove(leftover, "left over from an interrupted save"):
                logger.info("removed %s, left over from an interrupted save", leftover)
        finally:
            os.close(fd)


def _swap_in(staged: Path, target: Path, folder: Path, check: Callable[[Path, Path], None]) -> None:
    """Move the complete folder ``staged`` to ``target``, replacing the folder there."""
    try:
        os.rename(staged, target)  # atomic when nothing or an empty folder is there
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    check(folder, target)  # the folder may have changed while it was filled
    old = _sibling(target, REPLACED)
    fd = None
    if sys.platform != "win32":
        fd = _try_lock(target)
        if fd is None:
            raise RuntimeFailure(
                f"another save is replacing the index in '{folder}' right now; "
                "wait for it to finish, or save to another folder"
            )
    try:
        os.rename(target, old)
        os.rename(staged, target)
    except BaseException:
        if old.is_dir() and not target.exists():
            os.rename(old, target)  # put the old folder back
        raise
    finally:
        if fd is not None:
            os.close(fd)
    _remove(old, "the index it replaced")


def replace_folder(folder: Path, fill: Callable[[Path], T], *, check: Callable[[Path, Path], None]) -> T:
    """Replace ``folder`` with a new one that ``fill`` writes, only once ``fill`` has returned.

    The folder ``folder`` resolves to is replaced (through symlinks). ``check(folder, target)``
    raises if what is at ``target`` must not be replaced; it runs before ``fill`` and again before
    the swap, as the folder may change meanwhile. Returns what ``fill`` returns.
    """
    target = folder.resolve()
    check(folder, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = _sibling(target, STAGED)
    fd = None
    try:
        staged.mkdir()
        if sys.platform != "win32":
            fd = _try_lock(staged)
        result = fill(staged)
        _swap_in(staged, target, folder, check)
    finally:
        if staged.exists():  # filling failed or was interrupted
            _remove(staged, "an unfinished index")
        if fd is not None:
            os.close(fd)
    _remove_leftovers(target)
    return result
