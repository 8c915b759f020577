"""refine: question answering over documents that proves its answers.

Every claim cites the passages it came from, the citations are checked, and an answer that
breaks a rule is retried with feedback.

``import refine`` stays cheap: each name below is imported from its module when first asked
for (PEP 562), so a program pays for pydantic, bm25s or the backends only once it uses them.

The packages are the layers, lowest first: ``errors`` and ``usage`` (leaves); ``constraints``;
``lm`` and ``retrieval`` (backends); ``history`` and ``example`` (the values a call returns and
learns from); ``signatures`` (and all that derives from one); ``program`` (the one program
type, Predict, Module, rules, program files); ``checks`` and ``metrics``; ``evaluation``;
``optimizers``; ``rag``; ``testing`` and ``cli``. A module imports only from its own layer or
lower ones (``tests/test_layers.py`` says so).
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:  # what a type checker reads; at run time, _EXPORTS says where each name is
    from refine import checks, metrics
    from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Quote, Regex, Seq, Substring
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
    from refine.evaluation import Dataset, EvalReport, EvalRow, EvaluationInterrupted, evaluate, load_dataset
    from refine.example import Example
    from refine.history import Attempt, Demo, Prediction, RepairDemo, Step, Violation
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
    from refine.program import (
        Assert,
        BestOfN,
        Check,
        Module,
        Predict,
        Refine,
        Suggest,
        check,
        load_program,
        save_program,
        using,
    )
    from refine.rag import CitedAnswer, CitedQA, CitedRAG, SpanRAG, lm_judge
    from refine.retrieval import BM25Retriever, Hit
    from refine.signatures import Citations, FieldSpec, InputField, OutputField, Signature
    from refine.usage import Usage

__version__ = "0.1.0"

# Where each public name lives; tests/test_public_api.py checks that this, __all__ and the
# imports above name the same 83 names.
_SUBMODULES = ("checks", "metrics", "retrieval")
_EXPORTS: dict[str, tuple[str, ...]] = {
    "refine.constraints": ("Choice", "Constraint", "JsonSchema", "OneOf", "Quote", "Regex", "Seq", "Substring"),
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
    "refine.evaluation": ("Dataset", "EvalReport", "EvalRow", "EvaluationInterrupted", "evaluate", "load_dataset"),
    "refine.example": ("Example",),
    "refine.history": ("Attempt", "Demo", "Prediction", "RepairDemo", "Step", "Violation"),
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
    "refine.program": (
        "Assert",
        "BestOfN",
        "Check",
        "Module",
        "Predict",
        "Refine",
        "Suggest",
        "check",
        "load_program",
        "save_program",
        "using",
    ),
    "refine.rag": ("CitedAnswer", "CitedQA", "CitedRAG", "SpanRAG", "lm_judge"),
    "refine.retrieval": ("BM25Retriever", "Hit"),
    "refine.signatures": ("Citations", "FieldSpec", "InputField", "OutputField", "Signature"),
    "refine.usage": ("Usage",),
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
