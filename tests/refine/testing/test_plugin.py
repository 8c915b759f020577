"""The pytest plugin, run in a pytest of its own (pytester): fixtures, the real-LM option, reports."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import pytest
from hypothesis import given, strategies as st
from refine import CitedRAG, Predict
from refine.testing import check_invariants, outcome_of, questions, scripted_lms

def test_fixtures(scripted_lm, tiny_corpus):
    lm = scripted_lm(["Cats purr when content [1]."])
    result = CitedRAG()(question="Why do cats purr?", passages=list(tiny_corpus), lm=lm)
    assert result.valid and len(tiny_corpus) == 5

def test_report_shows_the_calls(scripted_lm):
    lm = scripted_lm(["Answer: Paris"], supports=())
    assert Predict("question -> answer")(question="Capital of France?", lm=lm).answer == "Lyon"

@pytest.mark.refine_real_lm
@given(st.integers())
def test_real(embedded_lm, n):
    COUNTS.append(n)

COUNTS = []

def test_budget_was_capped():
    assert len(COUNTS) <= 2

@given(questions(), scripted_lms("question -> answer", kind="malformed"))
def test_a_property_that_fails(question, lm):
    outcome = outcome_of(Predict("question -> answer"), {"question": question}, lm=lm)
    assert not isinstance(outcome, Exception)
"""

CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def embedded_lm():
    return "a stand-in: the real model is not loaded here"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=TESTS)
    return pytester


def test_real_lm_tests_are_skipped_without_the_option(suite):
    result = suite.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2, skipped=1)
    result.stdout.fnmatch_lines(["*runs against the embedded model: pass --refine-real-lm to run it*"])


def test_a_failure_report_shows_the_scripted_calls_and_the_drawn_script(suite):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*refine: scripted LM calls*",
            "*scripted LM 1: 1 replies scripted, 1 used*",
            "*reply 'Answer: Paris'*",
        ]
    )
    result.stdout.fnmatch_lines(["*Failing test case*", "*LM call 1 replied:*"])


def test_the_option_runs_marked_tests_with_a_small_budget(suite):
    result = suite.runpytest_subprocess("--refine-real-lm", "--refine-real-lm-examples=2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=2)


def test_profiles_are_registered():
    from hypothesis import settings

    assert settings.get_profile("refine-ci").derandomize
    assert settings.get_profile("refine-real-lm").max_examples == 5
