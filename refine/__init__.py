"""refine: question answering over documents that proves its answers.

Every claim cites the passages it came from, the citations are checked, and an answer that
breaks a rule is retried with feedback.
"""

from refine._context import using
from refine.adapter import Demo
from refine.constraints import Choice, Constraint, JsonSchema, OneOf, Quote, Regex, Seq, Substring
from refine.errors import (
    IndexCorrupt,
    LMError,
    ModelNotFound,
    ParseError,
    RefineError,
    RuntimeFailure,
    SignatureError,
    UnsupportedConstraint,
    UsageError,
)
from refine.judge import lm_judge
from refine.lm import LM, LlamaCpp, LMRequest, LMResponse, Message, ScriptedLM
from refine.predict import Attempt, Predict, Prediction, Usage
from refine.rag import CitedAnswer, CitedQA, CitedRAG
from refine.retrieval import BM25Retriever, Hit
from refine.signatures import Citations, FieldSpec, InputField, OutputField, Signature
from refine.validation import Violation

__version__ = "0.1.0"

__all__ = [
    "LM",
    "Attempt",
    "BM25Retriever",
    "Choice",
    "Citations",
    "CitedAnswer",
    "CitedQA",
    "CitedRAG",
    "Constraint",
    "Demo",
    "FieldSpec",
    "Hit",
    "IndexCorrupt",
    "InputField",
    "JsonSchema",
    "LMError",
    "LMRequest",
    "LMResponse",
    "LlamaCpp",
    "Message",
    "ModelNotFound",
    "OneOf",
    "OutputField",
    "ParseError",
    "Predict",
    "Prediction",
    "Quote",
    "RefineError",
    "Regex",
    "RuntimeFailure",
    "ScriptedLM",
    "Seq",
    "Signature",
    "SignatureError",
    "Substring",
    "UnsupportedConstraint",
    "Usage",
    "UsageError",
    "Violation",
    "lm_judge",
    "using",
]
