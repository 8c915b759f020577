"""Language-model backends behind one protocol: ``LM.complete(LMRequest) -> LMResponse``.

In-process :class:`LlamaCpp` (the embedded model by default), :class:`Ollama`,
:class:`OpenAICompatible`, and :class:`ScriptedLM` for tests; :class:`CachedLM` keeps any
backend's replies on disk. What each enforces is one table (:data:`BACKENDS`).
"""

from refine.errors import BackendError, BackendUnavailable, ModelNotServed
from refine.lm._cache import CachedLM, CacheWarning, ResponseCache
from refine.lm._llamacpp import LlamaCpp
from refine.lm._model_file import embedded_model_path
from refine.lm._ollama import Ollama
from refine.lm._openai import Flavour, OpenAICompatible
from refine.lm._retry import RetryPolicy
from refine.lm._scripted import Reply, ScriptedLM
from refine.lm._spec import DEFAULT_SPEC, LMSpec, default_lm, from_spec, parse_spec
from refine.lm._support import BACKENDS, Support
from refine.lm._types import LM, LMRequest, LMResponse, Message, Role, require_support

__all__ = [
    "BACKENDS",
    "DEFAULT_SPEC",
    "LM",
    "BackendError",
    "BackendUnavailable",
    "CacheWarning",
    "CachedLM",
    "Flavour",
    "LMRequest",
    "LMResponse",
    "LMSpec",
    "LlamaCpp",
    "Message",
    "ModelNotServed",
    "Ollama",
    "OpenAICompatible",
    "Reply",
    "ResponseCache",
    "RetryPolicy",
    "Role",
    "ScriptedLM",
    "Support",
    "default_lm",
    "embedded_model_path",
    "from_spec",
    "parse_spec",
    "require_support",
]
