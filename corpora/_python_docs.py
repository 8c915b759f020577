"""The shipped ``python-docs`` corpus: the language reference topics bundled with CPython.

The text comes from :data:`pydoc_data.topics.topics` (what ``help("nonlocal")`` shows), so it is
real documentation that needs no download. Its content follows the running Python version.
"""

from __future__ import annotations

import functools
import logging
import re
import time

from corpora._passage import Passage
from corpora._split import DEFAULT_MAX_TOKENS, check_max_tokens, split_text

__all__ = ["NAME", "load_python_docs"]

logger = logging.getLogger(__name__)

NAME = "python-docs"
# A reStructuredText title: one line, then a line of '*' (or '=', '-') at least as long.
_HEADING = re.compile(r"\A[ \t]*\n*(?P<title>[^\n]*\S)[ \t]*\n(?P<rule>[*=\-~^#]+)[ \t]*(?:\n|\Z)")


def load_python_docs(*, max_tokens: int = DEFAULT_MAX_TOKENS) -> tuple[Passage, ...]:
    """Passages of the Python reference topics, split with :func:`split_text`.

    Ids are ``"python-docs:{topic}#{chunk}"``, titles are the topics' headings (``The "nonlocal"
    statement``), metadata is ``{"topic": topic, "chunk": chunk}``. The result is cached.
    """
    return _load(check_max_tokens(max_tokens))


@functools.cache
def _load(max_tokens: int) -> tuple[Passage, ...]:
    from pydoc_data.topics import topics  # a 0.5 MB module: loaded on first use, not on `import corpora`

    started = time.perf_counter()
    passages: list[Passage] = []
    for key in sorted(topics):
        title, body = _title_and_body(key, topics[key])
        for i, chunk in enumerate(split_text(body, max_tokens=max_tokens)):
            passages.append(
                Passage(id=f"{NAME}:{key}#{i}", title=title, text=chunk, metadata={"topic": key, "chunk": i})
            )
    logger.debug(
        "built %s: %d passages from %d topics in %.2f s",
        NAME,
        len(passages),
        len(topics),
        time.perf_counter() - started,
    )
    return tuple(passages)


def _title_and_body(key: str, text: str) -> tuple[str, str]:
    """The topic's heading and the text after it, or the key and the whole text when there is none."""
    match = _HEADING.match(text)
    if match and len(match.group("rule")) >= len(match.group("title").strip()) // 2:
        return match.group("title").strip(), text[match.end() :]
    return key, text
