"""Passages and the loaders that make them: the floor of refine's import graph."""

from corpora._datasets import QADataset, QAExample, load_hotpotqa, load_nq
from corpora._files import check_file, read_json_lines
from corpora._loaders import FOLDER_SUFFIXES, load_folder, load_jsonl
from corpora._passage import Passage, stable_id
from corpora._python_docs import load_python_docs
from corpora._registry import ShippedCorpus, corpus_names, load_corpus, shared_data_dir, shipped_corpus
from corpora._split import split_text
from corpora._text import encoding_problem
from corpora._tokens import count_tokens
from corpora.errors import CorpusError

__all__ = [
    "FOLDER_SUFFIXES",
    "CorpusError",
    "Passage",
    "QADataset",
    "QAExample",
    "ShippedCorpus",
    "check_file",
    "corpus_names",
    "count_tokens",
    "encoding_problem",
    "load_corpus",
    "load_folder",
    "load_hotpotqa",
    "load_jsonl",
    "load_nq",
    "load_python_docs",
    "read_json_lines",
    "shared_data_dir",
    "shipped_corpus",
    "split_text",
    "stable_id",
]
