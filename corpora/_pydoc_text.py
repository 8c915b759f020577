"""A module's ``pydoc`` text (what ``help(module)`` shows), cut into one entry per documented object.

pydoc renders a module as sections (``NAME``, ``DESCRIPTION``, ``CLASSES``, ``FUNCTIONS``,
``DATA``, ``FILE``, ...). Kept: the module's name line and description (one entry), then each class
and function of ``CLASSES`` and ``FUNCTIONS`` (one entry each). Left out, so the text is the same on
every machine running the same Python and says only what the documentation says:

- ``DATA``: values as this process sees them (``os.environ`` would put the environment, secrets
  included, into the corpus);
- ``FILE``, ``MODULE REFERENCE``, ``PACKAGE CONTENTS``, ``VERSION`` ...: paths, links and lists;
- the class tree at the top of ``CLASSES``, and each class's ``... inherited from ...`` blocks
  (every exception would repeat ``BaseException``'s methods) and ``Built-in subclasses`` lists;
- memory addresses in default values (``<object object at 0x7f...>`` becomes ``<object object>``).

Each module is rendered in a fresh interpreter (:mod:`corpora._pydoc_render` says why), so the
text depends on the Python build alone, not on what this process has imported or patched.

An object documented again under another module (``io.open`` is ``builtins.open``) keeps its first
line and points to the first entry instead of repeating it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpora._pydoc_render import IMPORT_FAILED
from corpora.errors import CorpusError

__all__ = ["Entry", "module_entries", "render_modules"]

_RENDER = Path(__file__).with_name("_pydoc_render.py")

_SECTION = re.compile(r"^([A-Z][A-Z ]*[A-Z])$", re.M)
_KEPT = frozenset({"NAME", "DESCRIPTION", "CLASSES", "FUNCTIONS"})
# An object's first line, four spaces in: "class Path(PurePath)", "IOError = class OSError(...)", "open(...)".
_CLASS_START = re.compile(r"^    (?:\w+ = )?class \w")
_FUNCTION_START = re.compile(r"^    [A-Za-z_]")
_OBJECT_NAME = re.compile(r"(?:class )?(\w+)")
_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+")
# "IOError = class OSError(Exception)", "fdopen = open(...)": a second name for an object.
_ALIAS = re.compile(r"^(\w+) = (?:class )?(\w+)")
_RULE = re.compile(r"^-{20,}$")
_INHERITED = re.compile(r"^\S.* inherited from \S+:$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One documented object of a module: its dotted ``name``, a ``title`` and its ``text``."""

    name: str
    title: str
    text: str


def render_modules(modules: Sequence[str]) -> dict[str, str]:
    """Each module's pydoc text, rendered in order in a fresh interpreter (see :mod:`corpora._pydoc_render`)."""
    if not sys.executable:
        raise CorpusError("python-docs renders the library documentation with sys.executable, which is unset")
    command = [sys.executable, "-I", "-S", str(_RENDER), *modules]
    done = subprocess.run(command, capture_output=True, check=False)
    problem = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    if done.returncode == IMPORT_FAILED:
        module, _, error = problem[0].partition(": ")
        raise CorpusError(f"module {module!r} cannot be imported ({error}); python-docs needs it")
    if done.returncode != 0:
        raise CorpusError(f"rendering the pydoc text of {', '.join(modules)} failed: {problem[0]}")
    texts: dict[str, str] = json.loads(done.stdout)
    return texts


def module_entries(module: str, text: str, seen: MutableMapping[str, str]) -> list[Entry]:
    """The entries of ``module``'s pydoc ``text`` (from :func:`render_modules`), overview first.

    ``seen`` maps an entry's text (without its first line) to the name it was first given under;
    it is read and updated, so calling this for several modules in order documents each object once.
    """
    sections = dict(_sections(_ADDRESS.sub("", text)))
    entries = [_overview(module, sections)]
    if "CLASSES" in sections:
        entries.extend(_objects(module, sections["CLASSES"], _CLASS_START, seen, is_class=True))
    if "FUNCTIONS" in sections:
        entries.extend(_objects(module, sections["FUNCTIONS"], _FUNCTION_START, seen, is_class=False))
    return entries


def _sections(text: str) -> Iterator[tuple[str, str]]:
    """``(heading, body)`` for each kept section, the body dedented by its four spaces."""
    heads = list(_SECTION.finditer(text))
    for i, head in enumerate(heads):
        if head.group(1) in _KEPT:
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            yield head.group(1), text[head.end() : end].strip("\n")


def _overview(module: str, sections: dict[str, str]) -> Entry:
    name_line = " ".join(sections.get("NAME", module).split())
    body = _dedent(sections.get("DESCRIPTION", ""), "    ")
    # os.path is posixpath or ntpath: the title says both names.
    title = name_line if name_line.startswith(f"{module} ") else f"{module} ({name_line})"
    return Entry(name=module, title=title, text=f"{name_line}\n\n{body}".strip())


def _objects(
    module: str, body: str, start: re.Pattern[str], seen: MutableMapping[str, str], *, is_class: bool
) -> Iterator[Entry]:
    lines = body.split("\n")
    starts = [i for i, line in enumerate(lines) if start.match(line)]
    for i, first in enumerate(starts):
        block = lines[first : starts[i + 1] if i + 1 < len(starts) else len(lines)]
        header = block[0].strip()
        rest = _dedent("\n".join(block[1:]), "    ")
        if is_class:
            rest = _drop_inherited(_dedent(rest, " |  ", " |"))
        rest = textwrap.dedent(rest).strip("\n")
        alias = _ALIAS.match(header)
        name = f"{module}.{alias.group(1) if alias else _name(header)}"
        if alias:  # "IOError = class OSError(...)": documented under its own name
            rest = f"The same object as {module}.{alias.group(2)}; see its documentation."
        elif rest.strip() and seen.setdefault(rest, name) != name:  # documented in an earlier module
            rest = f"The same object as {seen[rest]}; see its documentation."
        text = f"{header}\n{_indent(rest)}" if rest.strip() else header
        yield Entry(name=name, title=name, text=text)


def _name(header: str) -> str:
    match = _OBJECT_NAME.match(header)
    return match.group(1) if match else header


def _dedent(text: str, prefix: str, bare: str | None = None) -> str:
    """Remove ``prefix`` from each line that starts with it (a line that is just ``bare`` becomes blank)."""
    out = []
    for line in text.split("\n"):
        if line.startswith(prefix):
            line = line[len(prefix) :]
        elif line.rstrip() == (bare if bare is not None else prefix.rstrip()):
            line = ""
        out.append(line.rstrip())
    return "\n".join(out)


def _drop_inherited(text: str) -> str:
    """A class body without its ``... inherited from ...:`` and ``Built-in subclasses:`` blocks.

    An inherited block runs to the next rule (pydoc draws one between blocks), the subclasses (which
    depend on what the interpreter has imported) to the next blank line; the rules go too.
    """
    kept: list[str] = []
    skipping: str | None = None  # what ends the block being left out
    for line in text.split("\n"):
        if _RULE.match(line):
            skipping = None
            if kept and kept[-1]:
                kept.append("")
            continue
        if skipping == "blank" and not line.strip():
            skipping = None
            continue
        if skipping is None and _INHERITED.match(line):
            skipping = "rule"
        elif skipping is None and line == "Built-in subclasses:":
            skipping = "blank"
        if skipping is None:
            kept.append(line)
    return "\n".join(kept).strip("\n")


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.split("\n"))
