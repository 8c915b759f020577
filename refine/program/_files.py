"""Programs saved as versioned, fingerprinted JSON: what each named predictor has learned.

:func:`save_program` writes, for every named predictor, its signature (as
:meth:`Signature.to_dict` writes it), its demos, and its settings, plus the refine version and a
format version; never pickle, so a file can be read (and diffed) by anyone, and loading it runs
no code::

    {"format": "refine-program", "version": 1, "refine_version": "0.1.0", "program": "CitedRAG",
     "predictors": [{"name": "predict", "signature": {...}, "settings": {"max_backtracks": 2, ...},
                     "demos": [{"values": {"question": "...", "answer": "..."}},
                               {"values": {...}, "repair": {"reply": "...", "feedback": "...", "format": "fields"}}]}],
     "digest": "blake2b-128:<hex>"}

``digest`` fingerprints everything else in the file (its canonical JSON), as the index manifest
does its files, so a file damaged or changed after it was written is reported, never half-used.
Demo values are written as JSON per their field's type (passages as :meth:`Passage.to_dict`,
pydantic models as their JSON) and read back through the same types. The file is written to a
temporary sibling and renamed into place, so an interrupted save leaves the old file whole.

Programs use it as ``program.save(path)``, ``program.load(path)`` (a copy of ``program`` with the
file's state) and ``Predict.load(path)`` / ``MyModule.load(path)`` (built from the file).
:func:`load_program` puts what a file holds into a program: an instance (its predictors' demos,
instructions, field descriptions and settings are replaced; its assertions, LM and everything
else are kept), the class :class:`~refine.Predict` (a one-step program built from the file), or a
:class:`~refine.Module` class that can be built without arguments. A file that cannot be read,
is not a program file, comes from a newer format version, is damaged, or does not fit the
program's structure raises :class:`ProgramFileError`, naming the file, what is wrong and the fix.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import pydantic

from corpora import Passage
from refine.errors import ProgramFileError, RefineError, UsageError
from refine.history import Demo, RepairDemo
from refine.program._predictor import Predictor
from refine.signatures import Signature

__all__ = [
    "FORMAT",
    "VERSION",
    "Loader",
    "Saved",
    "built_from_json",
    "predictor_from_json",
    "program_from_json",
    "program_to_json",
    "read_program",
    "write_program",
]

FORMAT = "refine-program"
VERSION = 1
DIGEST = "blake2b-128"
# The settings of a Predict that a file carries; assertions are code and stay with the program.
SETTINGS = ("max_backtracks", "strict", "max_tokens", "temperature", "constrained")


class Saved(Protocol):
    """What can be saved and loaded: a program that lists its predictors and rebuilds itself
    with each replaced (every :class:`~refine.program.Program`)."""

    def named_predictors(self) -> Any: ...

    def map_predictors(self, replace: Callable[[str, Any], Any]) -> Any: ...


def _refine_version() -> str:
    try:
        return metadata.version("refine")
    except metadata.PackageNotFoundError:
        return "unknown"


def _canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _digest(document: Mapping[str, Any]) -> str:
    body = {key: value for key, value in document.items() if key != "digest"}
    return f"{DIGEST}:{hashlib.blake2b(_canonical(body), digest_size=16).hexdigest()}"


# --- writing -------------------------------------------------------------------------------------


def _encode(value: Any, where: str) -> Any:
    """``value`` as JSON values, or a UsageError naming where it is and what would do."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
    elif isinstance(value, Passage):
        return _encode(value.to_dict(), where)
    elif isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    elif isinstance(value, enum.Enum):
        return _encode(value.value, where)
    elif isinstance(value, Mapping):
        return {str(key): _encode(item, f"{where}[{key!r}]") for key, item in value.items()}
    elif isinstance(value, list | tuple):
        return [_encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise UsageError(
        f"{where}={value!r:.80} ({type(value).__name__}) cannot be written as JSON; give demos values of "
        "str, numbers, bools, lists, dicts, Passages or pydantic models"
    )


def _demo_json(demo: Demo, where: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"values": _encode(dict(demo.values), f"{where}.values")}
    if isinstance(demo, RepairDemo):
        entry["repair"] = {"reply": demo.reply, "feedback": demo.feedback, "format": demo.format}
    return entry


def program_to_json(program: Saved) -> dict[str, Any]:
    """The document :func:`save_program` writes (pure: nothing is written)."""
    predictors = []
    for name, predict in program.named_predictors():
        predictors.append(
            {
                "name": name,
                "signature": predict.signature.to_dict(),
                "settings": {key: getattr(predict, key) for key in SETTINGS},
                "demos": [_demo_json(d, f"predictor {name!r} demos[{i}]") for i, d in enumerate(predict.demos)],
            }
        )
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "refine_version": _refine_version(),
        "program": type(program).__name__,
        "predictors": predictors,
    }
    document["digest"] = _digest(document)
    return document


def write_program(program: Saved, path: str | os.PathLike[str]) -> Path:
    """Write ``program``'s predictors to ``path`` as JSON (replacing the file whole); returns the path."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"path='{target}' is a folder; save the program to a file such as '{target / 'program.json'}'")
    text = json.dumps(program_to_json(program), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    staged = target.with_name(f".{target.name}.refine-tmp-{secrets.token_hex(4)}")
    try:
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, target)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise UsageError(
            f"cannot write the program to '{target}': {exc.strerror or exc}; save it somewhere writable"
        ) from exc
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return target


# --- reading -------------------------------------------------------------------------------------


class _Reader:
    """Reads one document, raising every problem as a ProgramFileError about ``source``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, problem: str, *, predictor: str | None = None, fix: str | None = None) -> ProgramFileError:
        fix = fix or "save the program again (program.save(path), or `refine optimize ... --save PATH`)"
        return ProgramFileError(f"program file '{self.source}' {problem}; {fix}", path=self.source, predictor=predictor)

    def header(self, document: Any) -> list[Any]:
        problem = _problem(document)
        if problem is not None:
            raise self.fail(f"is damaged: {problem}")
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            found = document.get("format") if isinstance(document, dict) else type(document).__name__
            raise self.fail(
                f"is not a refine program file (format={found!r}, expected {FORMAT!r})",
                fix="pass a file written by save_program or `refine optimize --save`",
            )
        version = document.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail(f"is damaged: version={version!r} is not a format version")
        if version > VERSION:
            raise self.fail(
                f"has format version {version} (written by refine {document.get('refine_version', '?')}), newer "
                f"than the version {VERSION} this refine ({_refine_version()}) reads",
                fix="upgrade refine (pip install -U refine), or save the program again with this version",
            )
        if document.get("digest") != _digest(document):
            raise self.fail(
                f"is damaged: its digest {str(document.get('digest'))[:40]!r} does not match its content, so it was "
                "changed after it was written (by hand, or cut short)",
            )
        predictors = document.get("predictors")
        if not isinstance(predictors, list):
            raise self.fail("is damaged: 'predictors' is not a list")
        return predictors

    def signature(self, entry: Mapping[str, Any], name: str) -> Signature:
        try:
            return Signature.from_json(entry["signature"])
        except (RefineError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise self.fail(
                f"is damaged: predictor {name!r} has no readable signature ({exc})", predictor=name
            ) from None

    def demos(self, entry: Mapping[str, Any], name: str, signature: Signature) -> list[Demo]:
        raw = entry.get("demos")
        if not isinstance(raw, list):
            raise self.fail(f"is damaged: predictor {name!r} has no list of demos", predictor=name)
        types = {spec.name: spec for spec in signature.fields}
        demos: list[Demo] = []
        for i, item in enumerate(raw):
            where = f"predictor {name!r} demos[{i}]"
            values = item.get("values") if isinstance(item, dict) else None
            if not isinstance(values, dict):
                raise self.fail(f"is damaged: {where} has no values", predictor=name)
            read: dict[str, Any] = {}
            for key, value in values.items():
                spec = types.get(key)
                if spec is None:
                    read[key] = value
                    continue
                try:
                    read[key] = pydantic.TypeAdapter(spec.type).validate_python(value)
                except (pydantic.ValidationError, RefineError) as exc:
                    raise self.fail(
                        f"is damaged: {where} value {key!r}={value!r:.60} is not {spec.type_name} ({_first(exc)})",
                        predictor=name,
                    ) from None
            repair = item.get("repair")
            if repair is None:
                demos.append(Demo(read))
                continue
            try:
                demos.append(RepairDemo(read, repair["reply"], repair["feedback"], repair.get("format", "fields")))
            except (KeyError, TypeError, UsageError) as exc:
                raise self.fail(f"is damaged: {where} has an unreadable repair ({exc})", predictor=name) from None
        return demos

    def settings(self, entry: Mapping[str, Any], name: str) -> dict[str, Any]:
        settings = entry.get("settings")
        if not isinstance(settings, dict) or set(settings) - set(SETTINGS):
            raise self.fail(f"is damaged: predictor {name!r} has unreadable settings {settings!r:.80}", predictor=name)
        return settings


def _first(exc: Exception) -> str:
    if isinstance(exc, pydantic.ValidationError) and exc.errors():
        return str(exc.errors()[0]["msg"])
    return str(exc)


def _structure(signature: Signature) -> list[tuple[Any, ...]]:
    """A signature's fields without what a program may learn (descriptions)."""
    return [
        (f["name"], f["kind"], json.dumps(f["schema"], sort_keys=True), f.get("citations"), f.get("extractive"))
        for f in signature.to_dict()["fields"]
    ]


def _fitted(saved: Signature, current: Signature) -> Signature:
    """``current``'s fields (their Python types) with ``saved``'s instructions and descriptions."""
    fields = tuple(replace(c, description=s.description) for c, s in zip(current.fields, saved.fields, strict=True))
    return Signature(instructions=saved.instructions, fields=fields)


def _rebuilt(reader: _Reader, name: str, entry: Mapping[str, Any], current: Predictor | type[Predictor]) -> Any:
    """A predictor from ``entry``: ``current`` (an instance) with what was saved, or built by ``current`` (a class)."""
    saved = reader.signature(entry, name)
    if not isinstance(current, type) and _structure(saved) != _structure(current.signature):
        raise reader.fail(
            f"does not fit the program: predictor {name!r} was saved with signature {saved}, but the program's is "
            f"{current.signature}",
            predictor=name,
            fix="load it into the program it was saved from, or compile this program again",
        )
    signature = saved if isinstance(current, type) else _fitted(saved, current.signature)
    demos = reader.demos(entry, name, signature)
    settings = reader.settings(entry, name)
    try:
        if isinstance(current, type):
            build: Any = current
            return build(signature, demos=demos, **settings)
        rebuild: Any = type(current)
        return rebuild(signature, lm=current.lm, demos=demos, assertions=current.assertions, **settings)
    except UsageError as exc:
        raise reader.fail(
            f"is damaged: predictor {name!r} has settings refine refuses ({exc})", predictor=name
        ) from None


def _entries(reader: _Reader, document: Any) -> dict[str, Mapping[str, Any]]:
    by_name: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(reader.header(document)):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in by_name:
            raise reader.fail(f"is damaged: predictors[{i}] has no name, or a name used twice ({name!r})")
        by_name[name] = entry
    return by_name


def _document(path: str | os.PathLike[str]) -> tuple[str, Any]:
    """The file at ``path``, parsed as JSON (its name, for errors, and its content)."""
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise ProgramFileError(
            f"cannot read program file '{source}': {exc.strerror or exc}; check the path (it is written by "
            "program.save(path) or `refine optimize --save PATH`)",
            path=source,
        ) from None
    reader = _Reader(source)
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant, parse_int=_bounded_int)
    except UnicodeDecodeError as exc:
        raise reader.fail(f"is damaged: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise reader.fail(f"is damaged: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except _Unreadable as exc:
        raise reader.fail(f"is damaged: {exc}") from None
    except RecursionError:
        raise reader.fail(f"is damaged: JSON nested more than {MAX_DEPTH} levels deep") from None
    return source, document


# A program file nests a signature's JSON schemas; deeper than this it is not one refine wrote.
MAX_DEPTH = 64
# Settings and demo values are small numbers; a longer integer is damage, not a value.
MAX_INT_DIGITS = 30


class _Unreadable(ValueError):
    """A JSON value a program file cannot hold (NaN, Infinity, a huge integer)."""


def _no_constant(name: str) -> Any:
    raise _Unreadable(f"{name} is not a JSON number (a program file holds finite numbers only)")


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Unreadable(f"an integer of {digits} digits is not a value refine writes")
    return int(text)


def _problem(value: Any, depth: int = 0) -> str | None:
    """What makes a parsed document unusable before anything reads it: nesting too deep, a number
    out of range (``1e400`` parses as infinity), text that is not Unicode (a lone surrogate)."""
    if depth > MAX_DEPTH:
        return f"JSON nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, float) and not math.isfinite(value):
        return f"a number out of range ({value}); a program file holds finite numbers only"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"the text {value[:40]!r} holds a lone surrogate, which is not Unicode text"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        problem = _problem(key, depth + 1) or _problem(item, depth + 1)
        if problem is not None:
            return problem
    return None


def program_from_json(target: Saved, document: Any, *, source: str = "<JSON>") -> Any:
    """A copy of the program ``target`` with what an already parsed ``document`` holds (named ``source`` in errors)."""
    reader = _Reader(source)
    by_name = _entries(reader, document)
    names = [name for name, _ in target.named_predictors()]
    missing = [name for name in names if name not in by_name]
    extra = [name for name in by_name if name not in names]
    if missing or extra:
        which = (missing or extra)[0]
        problem = (
            f"has no predictor {which!r}, which the program has"
            if missing
            else f"has a predictor {which!r} the program does not have"
        )
        raise reader.fail(
            f"does not fit the program: it {problem} "
            f"(file: {', '.join(by_name) or 'none'}; program: {', '.join(names)})",
            predictor=which,
            fix="load it into the program it was saved from, or compile this program again",
        )
    return target.map_predictors(lambda name, p: _rebuilt(reader, name, by_name[name], p))


def predictor_from_json(cls: type[Any], document: Any, source: str = "<JSON>") -> Any:
    """A one-step program of class ``cls`` built from ``document`` alone (``Predict.load(path)``)."""
    reader = _Reader(source)
    by_name = _entries(reader, document)
    if list(by_name) != ["self"]:
        program = document.get("program", "TheProgram")
        raise reader.fail(
            f"holds a program of predictors {', '.join(by_name) or 'none'}, not one Predict",
            fix=f"load it into the program it was saved from: {program}(...).load(path)",
        )
    return _rebuilt(reader, "self", by_name["self"], cls)


def built_from_json(cls: type[Any], document: Any, source: str = "<JSON>") -> Any:
    """A program of class ``cls``, built without arguments, with ``document`` loaded into it."""
    try:
        program = cls()
    except TypeError as exc:
        raise UsageError(
            f"{cls.__name__}() cannot be built without arguments ({exc}); build the program and load into it: "
            f"{cls.__name__}(...).load(path)"
        ) from None
    return program_from_json(program, document, source=source)


def read_program(target: Saved, path: str | os.PathLike[str]) -> Any:
    """A copy of the program ``target`` with what the file at ``path`` holds."""
    source, document = _document(path)
    return program_from_json(target, document, source=source)


class Loader:
    """The ``load`` method of programs: ``Cls.load(path)`` builds one from the file (as
    ``from_class`` says), ``program.load(path)`` returns a copy of ``program`` with the file's state."""

    def __init__(self, from_class: Callable[[type[Any], Any, str], Any]) -> None:
        self.from_class = from_class

    def __get__(self, instance: Any, owner: type[Any]) -> Callable[[str | os.PathLike[str]], Any]:
        if instance is None:
            return partial(self._load_class, owner)
        return partial(read_program, instance)

    def _load_class(self, owner: type[Any], path: str | os.PathLike[str]) -> Any:
        source, document = _document(path)
        return self.from_class(owner, document, source)
