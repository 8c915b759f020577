"""The shipped ``python-docs`` corpus: the documentation that ships with CPython, nothing downloaded.

Two parts, both what ``help(...)`` shows:

- the language reference topics of :data:`pydoc_data.topics.topics` (``help("nonlocal")``), ids
  ``python-docs:{topic}#{chunk}``, metadata ``{"topic", "chunk"}``;
- the ``pydoc`` text of the standard library modules in :data:`MODULES` (``help(open)``,
  ``help(pathlib)``), one entry per documented class or function (see :mod:`corpora._pydoc_text`),
  ids ``python-docs:{module}#{chunk}`` numbered through the module, titles the object's dotted name
  (``builtins.open``), metadata ``{"module", "object", "chunk"}``.

Its content follows the running Python, so :func:`python_docs_fingerprint` names the Python build
and this code; :func:`python_docs_names` lists the words the corpus documents (Python's keywords,
topic, module and object names), which a retriever should not drop as stopwords (``with``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import keyword
import logging
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from corpora import _pydoc_render, _pydoc_text, _split, _tokens
from corpora._passage import Passage
from corpora._pydoc_text import module_entries, render_modules
from corpora._split import DEFAULT_MAX_TOKENS, check_max_tokens, split_text
from corpora.errors import CorpusError

__all__ = ["MODULES", "NAME", "QUESTION_WORDS", "load_python_docs", "python_docs_fingerprint", "python_docs_names"]

logger = logging.getLogger(__name__)

NAME = "python-docs"
#: The standard library modules documented, in this order (an object documented twice is kept at its first).
MODULES = (
    "builtins",
    "os",
    "os.path",
    "pathlib",
    "io",
    "shutil",
    "sys",
    "re",
    "string",
    "json",
    "csv",
    "itertools",
    "functools",
    "collections",
    "contextlib",
    "dataclasses",
    "enum",
    "typing",
    "datetime",
    "time",
    "math",
    "random",
    "subprocess",
    "logging",
    "argparse",
    "asyncio",
)
#: Words of a question about Python that say nothing about its topic ("How do I ...", "What does ... do?").
#: Rare in the documentation, they would outweigh the topic if searched for.
QUESTION_WORDS = (
    "can", "could", "did", "do", "does", "doing", "how", "i", "me", "my", "should", "we", "what", "when",
    "where", "which", "who", "whom", "whose", "why", "would", "you", "your",
)  # fmt: skip
# Bump when the corpus changes in a way the source digest below cannot see.
_FORMAT = 1
# A reStructuredText title: one line, then a line of '*' (or '=', '-') at least as long.
_HEADING = re.compile(r"\A[ \t]*\n*(?P<title>[^\n]*\S)[ \t]*\n(?P<rule>[*=\-~^#]+)[ \t]*(?:\n|\Z)")


def load_python_docs(*, max_tokens: int = DEFAULT_MAX_TOKENS) -> tuple[Passage, ...]:
    """Passages of the Python reference topics, then of the modules in :data:`MODULES`.

    Each topic and each documented object is split with :func:`split_text`; see the module
    docstring for ids, titles and metadata. The result is cached per ``max_tokens``.
    """
    return _load(check_max_tokens(max_tokens))


def python_docs_names(passages: Iterable[Passage]) -> tuple[str, ...]:
    """The names ``passages`` document: Python's keywords and each topic, module and object name, sorted."""
    names = {*keyword.kwlist, *keyword.softkwlist}
    for passage in passages:
        for key in ("topic", "module", "object"):
            value = passage.metadata.get(key)
            if isinstance(value, str):
                names.add(value)
    return tuple(sorted(names))


def python_docs_fingerprint(*, max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
    """A digest that changes whenever :func:`load_python_docs` may return other passages.

    It covers the Python build (``sys.version``, which names the patch release), the platform
    (``os`` documents different functions on each), the modules, ``max_tokens`` and the source of
    the code that builds and splits the corpus.
    """
    key = {
        "corpus": NAME,
        "format": _FORMAT,
        "python": sys.version,
        "implementation": sys.implementation.cache_tag,
        "platform": sys.platform,
        "modules": MODULES,
        "max_tokens": check_max_tokens(max_tokens),
        "source": _source_digest(),
    }
    return hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=16).hexdigest()


@functools.cache
def _source_digest() -> str:
    digest = hashlib.blake2b(digest_size=16)
    for module in (sys.modules[__name__], _pydoc_render, _pydoc_text, _split, _tokens):
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:  # no source next to the bytecode: the format number alone decides
            digest.update(module.__name__.encode())
    return digest.hexdigest()


@functools.cache
def _load(max_tokens: int) -> tuple[Passage, ...]:
    started = time.perf_counter()
    passages = [*_topic_passages(max_tokens), *_module_passages(max_tokens)]
    logger.debug(
        "built %s: %d passages from the reference topics and %d modules in %.2f s",
        NAME,
        len(passages),
        len(MODULES),
        time.perf_counter() - started,
    )
    return tuple(passages)


def _topic_passages(max_tokens: int) -> list[Passage]:
    from pydoc_data.topics import topics  # a 0.5 MB module: loaded on first use, not on `import corpora`

    clash = sorted(set(topics).intersection(MODULES))
    if clash:  # their ids would collide
        raise CorpusError(f"python-docs topics {clash} have the names of modules; leave them out of MODULES")
    passages: list[Passage] = []
    for key in sorted(topics):
        title, body = _title_and_body(key, topics[key])
        for i, chunk in enumerate(split_text(body, max_tokens=max_tokens)):
            passages.append(
                Passage(id=f"{NAME}:{key}#{i}", title=title, text=chunk, metadata={"topic": key, "chunk": i})
            )
    return passages


def _module_passages(max_tokens: int) -> list[Passage]:
    passages: list[Passage] = []
    seen: dict[str, str] = {}
    texts = render_modules(MODULES)
    for module in MODULES:
        chunk = 0
        for entry in module_entries(module, texts[module], seen):
            for text in split_text(entry.text, max_tokens=max_tokens):
                metadata = {"module": module, "object": entry.name, "chunk": chunk}
                passages.append(Passage(id=f"{NAME}:{module}#{chunk}", title=entry.title, text=text, metadata=metadata))
                chunk += 1
    return passages


def _title_and_body(key: str, text: str) -> tuple[str, str]:
    """The topic's heading and the text after it, or the key and the whole text when there is none."""
    match = _HEADING.match(text)
    if match and len(match.group("rule")) >= len(match.group("title").strip()) // 2:
        return match.group("title").strip(), text[match.end() :]
    return key, text
