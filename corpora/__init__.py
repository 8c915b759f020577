"""Passages and the loaders that make them: the floor of refine's import graph."""

from corpora._datasets import QADataset, QAExample, load_hotpotqa, load_nq
from corpora._loaders import load_folder, load_jsonl
from corpora._passage import Passage, stable_id
from corpora._python_docs import load_python_docs
from corpora._registry import corpus_names, load_corpus, shared_data_dir
from corpora._split import split_text
from corpora._tokens import count_tokens
from corpora.errors import CorpusError

__all__ = [
    "CorpusError",
    "Passage",
    "QADataset",
    "QAExample",
    "corpus_names",
    "count_tokens",
    "load_corpus",
    "load_folder",
    "load_hotpotqa",
    "load_jsonl",
    "load_nq",
    "load_python_docs",
    "shared_data_dir",
    "split_text",
    "stable_id",
]
