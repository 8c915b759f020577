"""refine: question answering over documents that proves its answers.

Every claim cites the passages it came from, the citations are checked, and an answer that
breaks a rule is retried with feedback.

``import refine`` stays cheap: each name below is imported from its module when first asked
for (PEP 562), so a program pays for pydantic, bm25s or the backends only once it uses them.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:  # what a type checker reads; at run time, _EXPORTS says where each name is
    from refine import checks, metrics
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
    from refine.retrieval import BM25Retriever, Hit
    from refine.rollouts import BestOfN, Refine
    from refine.signatures import Citations, FieldSpec, InputField, OutputField, Signature

__version__ = "0.1.0"

_SUBMODULES = ("checks", "metrics", "retrieval")
# Where each other public name lives.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "refine.retrieval": ("BM25Retriever", "Hit"),
    "refine._context": ("using",),
    "refine.assertions": ("Assert", "Check", "Suggest"),
    "refine.constraints": ("Choice", "Constraint", "JsonSchema", "OneOf", "Quote", "Regex", "Seq", "Substring"),
    "refine.datasets": ("Dataset", "load_dataset"),
    "refine.errors": (
        "AssertionFailed",
        "ContextOverflow",
        "IndexCorrupt",
        "LMError",
        "ModelNotFound",
        "ParseError",
        "ProgramFileError",
        "RefineError",
        "RuntimeFailure",
        "SignatureError",
        "UnsupportedConstraint",
        "UsageError",
    ),
    "refine.evaluation": ("EvalReport", "EvalRow", "EvaluationInterrupted", "evaluate"),
    "refine.example": ("Example",),
    "refine.history": ("Attempt", "Demo", "Prediction", "RepairDemo", "Step", "Usage", "Violation"),
    "refine.judge": ("lm_judge",),
    "refine.lm": (
        "LM",
        "BackendError",
        "BackendUnavailable",
        "CachedLM",
        "CacheWarning",
        "LlamaCpp",
        "LMRequest",
        "LMResponse",
        "Message",
        "ModelNotServed",
        "Ollama",
        "OpenAICompatible",
        "ResponseCache",
        "RetryPolicy",
        "ScriptedLM",
        "from_spec",
    ),
    "refine.module": ("Module", "check"),
    "refine.optimizers": (
        "BootstrapFewShot",
        "Candidate",
        "Compiled",
        "CompileReport",
        "DemoTrimWarning",
        "ExampleOutcome",
        "LabeledFewShot",
        "RandomSearch",
    ),
    "refine.predict": ("Predict",),
    "refine.program_file": ("load_program", "save_program"),
    "refine.rag": ("CitedAnswer", "CitedQA", "CitedRAG", "SpanRAG"),
    "refine.rollouts": ("BestOfN", "Refine"),
    "refine.signatures": ("Citations", "FieldSpec", "InputField", "OutputField", "Signature"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

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


# Type checkers read the imports above instead, so to them a misspelt name is still an error
# rather than an `object` from this hook.
if not _typing.TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name in _SUBMODULES:
            value = _importlib.import_module(f"{__name__}.{name}")
        elif name in _HOME:
            value = getattr(_importlib.import_module(_HOME[name]), name)
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value  # the next lookup is an ordinary one
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
