"""Language-model backends behind one protocol: ``LM.complete(LMRequest) -> LMResponse``."""

from refine.lm._llamacpp import LlamaCpp
from refine.lm._model_file import embedded_model_path
from refine.lm._scripted import Reply, ScriptedLM
from refine.lm._types import LM, LMRequest, LMResponse, Message, Role, require_support

__all__ = [
    "LM",
    "LMRequest",
    "LMResponse",
    "LlamaCpp",
    "Message",
    "Reply",
    "Role",
    "ScriptedLM",
    "embedded_model_path",
    "require_support",
]
