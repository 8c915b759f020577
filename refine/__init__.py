"""refine: question answering over documents that proves its answers.

Every claim cites the passages it came from, the citations are checked, and an answer that
breaks a rule is retried with feedback.

``import refine`` stays cheap: :class:`BM25Retriever`, which stands on bm25s, numpy and scipy,
is imported when first asked for (PEP 562), and the backends, progress bars and tables import
httpx, numpy and rich when they are used.
"""

import typing as _typing

from refine import checks, metrics, retrieval
from refine._context import using
from refine.assertions import Assert, Check, Suggest
from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Quote, Regex, Seq, Substring
from refine.datasets import Dataset, load_dataset
from refine.errors import (
    AssertionFailed,
    ContextOverflow,
    IndexCorrupt,
    LMError,
    ModelNotFound,
    ParseError,
    ProgramFileError,
    RefineError,
    RuntimeFailure,
    SignatureError,
    UnsupportedConstraint,
    UsageError,
)
from refine.evaluation import EvalReport, EvalRow, EvaluationInterrupted, evaluate
from refine.example import Example
from refine.history import Attempt, Demo, Prediction, RepairDemo, Step, Usage, Violation
from refine.judge import lm_judge
from refine.lm import (
    LM,
    BackendError,
    BackendUnavailable,
    CachedLM,
    CacheWarning,
    LlamaCpp,
    LMRequest,
    LMResponse,
    Message,
    ModelNotServed,
    Ollama,
    OpenAICompatible,
    ResponseCache,
    RetryPolicy,
    ScriptedLM,
    from_spec,
)
from refine.module import Module, check
from refine.optimizers import (
    BootstrapFewShot,
    Candidate,
    Compiled,
    CompileReport,
    DemoTrimWarning,
    ExampleOutcome,
    LabeledFewShot,
    RandomSearch,
)
from refine.predict import Predict
from refine.program_file import load_program, save_program
from refine.rag import CitedAnswer, CitedQA, CitedRAG, SpanRAG
from refine.retrieval import Hit
from refine.rollouts import BestOfN, Refine
from refine.signatures import Citations, FieldSpec, InputField, OutputField, Signature

if _typing.TYPE_CHECKING:
    from refine.retrieval import BM25Retriever

__version__ = "0.1.0"

__all__ = [
    "LM",
    "Assert",
    "AssertionFailed",
    "Attempt",
    "BM25Retriever",
    "BackendError",
    "BackendUnavailable",
    "BestOfN",
    "BootstrapFewShot",
    "CacheWarning",
    "CachedLM",
    "Candidate",
    "Check",
    "Choice",
    "Citations",
    "CitedAnswer",
    "CitedQA",
    "CitedRAG",
    "CompileReport",
    "Compiled",
    "Constraint",
    "ContextOverflow",
    "Dataset",
    "Demo",
    "DemoTrimWarning",
    "EvalReport",
    "EvalRow",
    "EvaluationInterrupted",
    "Example",
    "ExampleOutcome",
    "FieldSpec",
    "Hit",
    "IndexCorrupt",
    "InputField",
    "JsonSchema",
    "LMError",
    "LMRequest",
    "LMResponse",
    "LabeledFewShot",
    "LlamaCpp",
    "Message",
    "ModelNotFound",
    "ModelNotServed",
    "Module",
    "Ollama",
    "OneOf",
    "OpenAICompatible",
    "OutputField",
    "ParseError",
    "Predict",
    "Prediction",
    "ProgramFileError",
    "Quote",
    "RandomSearch",
    "Refine",
    "RefineError",
    "Regex",
    "RepairDemo",
    "ResponseCache",
    "RetryPolicy",
    "RuntimeFailure",
    "ScriptedLM",
    "Seq",
    "Signature",
    "SignatureError",
    "SpanRAG",
    "Step",
    "Substring",
    "Suggest",
    "UnsupportedConstraint",
    "Usage",
    "UsageError",
    "Violation",
    "check",
    "checks",
    "evaluate",
    "from_spec",
    "lm_judge",
    "load_dataset",
    "load_program",
    "metrics",
    "save_program",
    "using",
]


# Type checkers read the import of BM25Retriever above instead, so to them a misspelt name is
# still an error rather than an `object` from this hook.
if not _typing.TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name == "BM25Retriever":
            return retrieval.BM25Retriever  # refine.retrieval imports it (bm25s, numpy, scipy) on first use
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
