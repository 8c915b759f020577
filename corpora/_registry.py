"""Finding a corpus by name or path, and finding the shared data folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from corpora._files import as_path
from corpora._loaders import load_folder, load_jsonl
from corpora._passage import Passage
from corpora._python_docs import NAME as PYTHON_DOCS
from corpora._python_docs import QUESTION_WORDS, load_python_docs, python_docs_fingerprint, python_docs_names
from corpora._split import DEFAULT_MAX_TOKENS, check_max_tokens
from corpora.errors import CorpusError

__all__ = ["DATA_ENV_VAR", "ShippedCorpus", "corpus_names", "load_corpus", "shared_data_dir", "shipped_corpus"]

logger = logging.getLogger(__name__)

DATA_ENV_VAR = "REFINE_DATA"
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")


@dataclass(frozen=True, slots=True)
class ShippedCorpus:
    """A corpus that ships with the package, and what a retriever needs to know about it.

    ``load(max_tokens=...)`` returns its passages; ``fingerprint(max_tokens=...)`` a digest that
    changes whenever ``load`` may return other passages (so a built index can be cached);
    ``names(passages)`` the words the passages document, never to be dropped as stopwords;
    ``question_words`` words of a question that say nothing about its topic, to drop beside the
    English stopwords.
    """

    name: str
    load: Callable[..., tuple[Passage, ...]]
    fingerprint: Callable[..., str]
    names: Callable[[Iterable[Passage]], tuple[str, ...]]
    question_words: tuple[str, ...] = ()


# The corpora that ship with the package; fixed at import, never modified.
_SHIPPED: MappingProxyType[str, ShippedCorpus] = MappingProxyType(
    {
        PYTHON_DOCS: ShippedCorpus(
            name=PYTHON_DOCS,
            load=load_python_docs,
            fingerprint=python_docs_fingerprint,
            names=python_docs_names,
            question_words=QUESTION_WORDS,
        )
    }
)


def corpus_names() -> tuple[str, ...]:
    """The names of the corpora that ship with the package, sorted."""
    return tuple(sorted(_SHIPPED))


def load_corpus(name_or_path: str | os.PathLike[str], *, max_tokens: int = DEFAULT_MAX_TOKENS) -> tuple[Passage, ...]:
    """A shipped corpus by name (see :func:`corpus_names`), or the passages at a path.

    A path may be a ``.jsonl``/``.jsonl.gz`` file (passages taken as they are, see :func:`load_jsonl`)
    or a folder of ``.txt``/``.md`` files (split into chunks of ``max_tokens``, see :func:`load_folder`).
    """
    check_max_tokens(max_tokens)
    if isinstance(name_or_path, str) and name_or_path in _SHIPPED:
        return _SHIPPED[name_or_path].load(max_tokens=max_tokens)
    path = as_path(name_or_path, what="name_or_path")
    if path.is_dir():
        return load_folder(path, max_tokens=max_tokens)
    if path.is_file():
        if path.name.lower().endswith(_JSONL_SUFFIXES):
            return load_jsonl(path)
        raise CorpusError(
            f"cannot load a corpus from {str(path)!r}: unsupported file type; "
            "pass a .jsonl or .jsonl.gz file, or a folder of .txt/.md files"
        )
    raise CorpusError(
        f"unknown corpus {str(name_or_path)!r}: not a shipped corpus name ({', '.join(corpus_names())}) "
        "and no such file or folder; "
        "pass a corpus name or a path to a .jsonl file or a folder of .txt/.md files"
    )


def shipped_corpus(name: str) -> ShippedCorpus:
    """The shipped corpus called ``name``; raises :class:`CorpusError` naming the ones there are."""
    if not isinstance(name, str) or name not in _SHIPPED:
        raise CorpusError(f"name={name!r} is not a shipped corpus; use one of {', '.join(corpus_names())}")
    return _SHIPPED[name]


def shared_data_dir() -> Path | None:
    """The folder of shared data sets (HotpotQA, NQ-open, ...), or None when there is none.

    ``$REFINE_DATA`` wins when set (and must then be a folder); otherwise ``../shared/data`` next to
    the project root, when running from a checkout (the folder holding ``pyproject.toml`` and this package).
    """
    configured = os.environ.get(DATA_ENV_VAR)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise CorpusError(
                f"{DATA_ENV_VAR}={configured!r} is not a folder; point it at the shared data folder "
                f"(the one holding hotpotqa/ and nq_open/) or unset it"
            )
        return path
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        return None  # installed, not a checkout
    candidate = root.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None
