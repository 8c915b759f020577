"""refine's benchmarks: each module runs alone (``python benchmarks/overhead.py``), and
``python -m benchmarks`` runs the suite (import time, overhead, retrieval, answer quality) into one
JSON file, a markdown table and PNG plots; see ``benchmarks/__main__.py``."""
