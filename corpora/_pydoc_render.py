"""Render modules' ``pydoc`` text in a fresh interpreter: ``python -I -S _pydoc_render.py MODULE...``.

pydoc shows a module as the running process sees it: a hook pytest installed (``sys.unraisablehook``),
the handlers logging holds (``logging.shutdown``'s default value), attributes ``copyreg`` added
(``__slotnames__``). Rendered in a new interpreter, isolated (``-I``) and without site-packages
(``-S``), in the order given, the text depends only on the Python build and the module list, so
the corpus fingerprint can name those instead of hashing the text. Standard library only: this
file runs outside the ``corpora`` package.

Prints a JSON object ``{module: text}`` to stdout; a module that cannot be imported exits with
status 3 and ``module: error`` on stderr.
"""

from __future__ import annotations

import importlib
import json
import sys

__all__ = ["render"]

IMPORT_FAILED = 3


def render(module: str) -> str:
    """The plain text ``help(module)`` shows, headed by the module's name alone."""
    import pydoc  # not at the top, so that importing IMPORT_FAILED from here stays cheap

    return pydoc.render_doc(importlib.import_module(module), title="%s", renderer=pydoc.plaintext)  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: python -I -S _pydoc_render.py MODULE...\n")
        return 2
    texts = {}
    for module in argv:
        try:
            texts[module] = render(module)
        except ImportError as exc:
            sys.stderr.write(f"{module}: {type(exc).__name__}: {exc}\n")
            return IMPORT_FAILED
    sys.stdout.buffer.write(json.dumps(texts).encode("ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
