"""refine.evaluate with the scripted LM: rows, errors, aggregates, threads, Ctrl-C."""

from __future__ import annotations

import enum
import os
import signal
import threading

import pytest
from pydantic import BaseModel

from corpora import Passage
from refine import (
    Assert,
    AssertionFailed,
    BM25Retriever,
    Module,
    Predict,
    Prediction,
    ScriptedLM,
    Suggest,
    UsageError,
    checks,
    metrics,
    using,
)
from refine.evaluation import Dataset, EvalReport, EvaluationInterrupted, evaluate
from refine.evaluation._rows import jsonable
from refine.example import Example

CAPITALS = {"France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Peru": "Lima"}


def examples(n: int = 5) -> list[Example]:
    countries = list(CAPITALS) * (n // len(CAPITALS) + 1)
    return [
        Example(question=f"What is the capital of {c}? ({i})", answers=[CAPITALS[c]], id=f"q{i}").with_inputs(
            "question"
        )
        for i, c in enumerate(countries[:n])
    ]


def answer_from_question(request) -> str:
    """A reply that depends only on the request, so call order does not matter."""
    prompt = " ".join(m.content for m in request.messages)
    country = next(c for c in CAPITALS if c in prompt)
    return f"Answer: {CAPITALS[country] if country != 'Peru' else 'Cusco'}"


def scripted(n: int = 100, reply=answer_from_question) -> ScriptedLM:
    return ScriptedLM([reply] * n)


def test_rows_and_aggregates():
    report = evaluate(Predict("question -> answer"), examples(), metrics.em, lm=scripted(), progress=False)
    assert isinstance(report, EvalReport)
    assert [row.id for row in report.rows] == [f"q{i}" for i in range(5)]
    assert [row.metric for row in report.rows] == [1.0, 1.0, 1.0, 1.0, 0.0]  # Lima, not Cusco
    assert report.mean == 0.8 and report.metric == "em"
    low, high = report.interval
    assert 0.0 <= low <= report.mean <= high <= 1.0
    first = report.rows[0]
    assert dict(first.inputs) == {"question": "What is the capital of France? (0)"}
    assert dict(first.outputs or {}) == {"answer": "Paris"}
    assert first.ok and first.attempts == first.calls == 1 and first.backtracks == 0
    assert first.usage.calls == 1 and first.usage.prompt_tokens > 0
    assert report.usage.calls == 5 and report.usage.prompt_tokens == sum(r.usage.prompt_tokens for r in report.rows)
    assert report.errors == () and report.failing == ()
    assert len(report.slowest(2)) == 2 and report.slowest(1)[0].seconds == max(r.seconds for r in report.rows)
    assert "em=0.800" in repr(report)


def test_the_interval_is_reproducible_from_its_seed():
    run = [
        evaluate(Predict("question -> answer"), examples(), metrics.em, lm=scripted(), progress=False, seed=s)
        for s in (3, 3)
    ]
    assert run[0].interval == run[1].interval


def test_extra_metrics_are_scored_on_every_row():
    report = evaluate(
        Predict("question -> answer"),
        examples(),
        metrics.em,
        lm=scripted(),
        progress=False,
        metrics={"f1": metrics.f1, "length": lambda e, p: len(p.answer)},
    )
    assert report.scores["f1"] == 0.8 and report.rows[0].scores["length"] == 5.0
    assert report.scores["length"] == pytest.approx((5 + 6 + 4 + 6 + 5) / 5)


def test_a_program_error_is_the_rows_error():
    never = Assert(lambda p: p.answer != "Berlin", "Do not say Berlin.")
    program = Predict("question -> answer", assertions=[never], max_backtracks=1)
    report = evaluate(program, examples(), metrics.em, lm=scripted(), progress=False)
    failed = report.rows[1]
    assert failed.error is not None and failed.error.type == "AssertionFailed"
    assert "Do not say Berlin." in failed.error.message
    assert failed.metric is None and failed.value() == 0.0 and failed.outputs is None
    assert failed.attempts == 2 and failed.calls == 1 and failed.backtracks == 1
    assert failed.usage.calls == 2  # counted from the error's attempts
    assert [(f.rule, f.hard) for f in failed.failures] == [("assert", True)]
    assert report.errors == (failed,) and report.failing == (failed,)
    assert report.mean == pytest.approx(3 / 5)  # a failed row scores 0
    stats = report.rules["assert"]
    assert stats.hard and stats.failed == 1 and stats.retried == 1 and stats.pass_rate == pytest.approx(4 / 5)


def test_an_lm_failure_is_the_rows_error_and_the_run_goes_on():
    lm = ScriptedLM([answer_from_question] * 2)  # runs out of replies on the third row
    report = evaluate(Predict("question -> answer"), examples(), metrics.em, lm=lm, progress=False)
    assert [row.ok for row in report.rows] == [True, True, False, False, False]
    assert report.rows[2].error.type == "LMError" and "ran out of replies" in report.rows[2].error.message
    assert report.rows[2].attempts == 0 and report.rows[2].usage.calls == 0


def test_retries_and_suggestions_are_counted():
    replies = ["", "Paris is a big city in France", "x"]
    program = Predict(
        "question -> answer",
        assertions=[Suggest(checks.max_words("answer", 3))],
        max_backtracks=1,
    )
    one = [examples(1)[0]]
    report = evaluate(program, one, metrics.em, lm=ScriptedLM(replies, supports=()), progress=False)
    row = report.rows[0]
    assert row.attempts == 2 and row.backtracks == 1
    assert dict(row.attempt_failures) == {"type": 1, "max_words": 1}
    assert row.hard_rules == ("type",)
    assert [(f.rule, f.hard) for f in row.failures] == [("max_words", False)]
    assert report.rules["max_words"].pass_rate == 0.0 and not report.rules["max_words"].hard
    assert report.rules["type"].pass_rate == 1.0 and report.rules["type"].hard
    assert report.failing == (row,) and report.errors == ()


class TwoStep(Module):
    def __init__(self) -> None:
        self.country = Predict("question -> country")
        self.capital = Predict("country -> answer")

    def forward(self, question: str) -> Prediction:
        found = self.country(question=question)
        return self.capital(country=found.country)


def test_a_module_counts_its_predictor_calls():
    def reply(request):
        prompt = request.messages[-1].content
        return "Country: France" if "question" in prompt.lower() else "Answer: Paris"

    report = evaluate(TwoStep(), examples(1), metrics.em, lm=ScriptedLM([reply] * 2), progress=False)
    row = report.rows[0]
    assert row.metric == 1.0 and row.attempts == 2 and row.calls == 2 and row.backtracks == 0


def test_threads_give_the_same_rows():
    never = Assert(lambda p: p.answer != "Rome", "Not Rome.")
    program = Predict("question -> answer", assertions=[never], max_backtracks=1)
    data = examples(40)
    one = evaluate(program, data, metrics.f1, lm=scripted(200), progress=False)
    eight = evaluate(program, data, metrics.f1, lm=scripted(200), threads=8, progress=False)

    def comparable(report):
        return [
            {**row.to_json(), "seconds": None, "usage": {**row.to_json()["usage"], "seconds": None}}
            for row in report.rows
        ]

    assert comparable(one) == comparable(eight)
    assert one.mean == eight.mean and one.interval == eight.interval and one.errors and eight.errors


def test_the_using_default_reaches_every_thread():
    with using(lm=scripted()):
        report = evaluate(Predict("question -> answer"), examples(), metrics.em, threads=3, progress=False)
    assert report.mean == 0.8


class Boom(RuntimeError):
    pass


def test_a_bug_stops_the_run_and_keeps_the_finished_rows(tmp_path):
    def program(*, question: str, lm=None) -> Prediction:
        if "(3)" in question:
            raise Boom("bug in the program")
        return Predict("question -> answer")(question=question, lm=lm)

    out = tmp_path / "rows.jsonl"
    with pytest.raises(Boom) as info:
        evaluate(program, examples(), metrics.em, lm=scripted(), progress=False, out=out)
    assert "refine.evaluate stopped at this error after 3 rows" in info.value.__notes__[0]
    assert len(out.read_text().splitlines()) == 1 + 3
    with pytest.raises(Boom):
        evaluate(program, examples(8), metrics.em, lm=scripted(), threads=3, progress=False, out=out, resume=True)
    # The rows in flight beside the bug finished and were written; nothing after them started.
    written = out.read_text().splitlines()
    assert 1 + 3 < len(written) <= 1 + 3 + 2 + 1


def test_ctrl_c_keeps_the_finished_rows(tmp_path):
    def program(*, question: str, lm=None) -> Prediction:
        if "(2)" in question:
            raise KeyboardInterrupt  # what the embedded model raises at its next decoding step
        return Predict("question -> answer")(question=question, lm=lm)

    out = tmp_path / "rows.jsonl"
    with pytest.raises(EvaluationInterrupted) as info:
        evaluate(program, examples(), metrics.em, lm=scripted(), progress=False, out=out)
    assert isinstance(info.value, KeyboardInterrupt)
    assert [row.id for row in info.value.report.rows] == ["q0", "q1"]
    assert len(out.read_text().splitlines()) == 3


def test_ctrl_c_with_threads_finishes_the_rows_in_flight(tmp_path):
    started: list[str] = []
    release = threading.Event()
    lock = threading.Lock()

    def program(*, question: str, lm=None) -> Prediction:
        with lock:
            started.append(question)
            first = len(started) == 1
        if first:
            os.kill(os.getpid(), signal.SIGINT)  # lands in the main thread, waiting for rows
            release.set()
        else:
            release.wait(5)
        return Predict("question -> answer")(question=question, lm=lm)

    out = tmp_path / "rows.jsonl"
    with pytest.raises(EvaluationInterrupted) as info:
        evaluate(program, examples(20), metrics.em, lm=scripted(), threads=2, progress=False, out=out)
    finished = info.value.report.rows
    assert 1 <= len(finished) == len(started) <= 3  # the rows in flight finished; no new one started
    assert len(out.read_text().splitlines()) == 1 + len(finished)


def test_a_dataset_can_be_evaluated_directly():
    data = Dataset("capitals", examples(), [Passage.create("t", "x")])
    assert evaluate(Predict("question -> answer"), data, metrics.em, lm=scripted(), progress=False).mean == 0.8


def test_a_progress_bar_goes_to_stderr(capsys):
    evaluate(Predict("question -> answer"), examples(), metrics.em, lm=scripted(), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "5/5" in captured.err and "em 0.800" in captured.err


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, e: evaluate(p, e, metrics.em, threads=0), "threads=0 must be >= 1"),
        (lambda p, e: evaluate(p, e, metrics.em, progress=1), "progress=1 must be True or False"),
        (lambda p, e: evaluate(p, e, metrics.em, resume=True), r"resume=True needs out=PATH"),
        (lambda p, e: evaluate(p, e, "em"), r"metric='em' is not callable; pass a function \(example, prediction\)"),
        (lambda p, e: evaluate("p", e, metrics.em), "program='p' is not callable"),
        (lambda p, e: evaluate(p, e, metrics.em, lm="x"), "lm='x' is not an LM"),
        (lambda p, e: evaluate(p, [], metrics.em), "examples is empty"),
        (lambda p, e: evaluate(p, e[0], metrics.em), r"examples=Example\(.*must be a list of refine.Example"),
        (lambda p, e: evaluate(p, [{"question": "q"}], metrics.em), r"make it Example\(\*\*row\).with_inputs"),
        (
            lambda p, e: evaluate(p, [Example(question="q").with_inputs("question")], metrics.em),
            r"examples\[0\] has no id \(rows are named by id\); give each example one, e.g. Example\(..., id='q0'\)",
        ),
        (
            lambda p, e: evaluate(p, [e[0], e[1].with_id("q0")], metrics.em),
            r"examples\[1\] has id 'q0', as examples\[0\] has; ids must be unique",
        ),
        (
            lambda p, e: evaluate(p, [Example(question="q", id="a")], metrics.em),
            r"examples\[0\] \(id 'a'\) names no inputs; name them, e.g. example.with_inputs\('question'\)",
        ),
        (
            lambda p, e: evaluate(p, [Example(query="q", id="a").with_inputs("query")], metrics.em),
            r"examples\[0\] \(id 'a'\) has inputs query, but Predict\(.*\) needs question",
        ),
        (
            lambda p, e: evaluate(TwoStep(), [Example(query="q", id="a").with_inputs("query")], metrics.em),
            r"has inputs query, which [\w.]*TwoStep cannot take \(missing a required argument: 'question'\)",
        ),
        (
            lambda p, e: evaluate(p, e, metrics.em, metrics=[metrics.em]),
            r"two metrics are named 'em'; pass metrics as a dict to name them apart",
        ),
    ],
)
def test_mistakes_are_refused_before_any_call(call, message):
    lm = ScriptedLM([])
    with pytest.raises(UsageError, match=message):
        call(Predict("question -> answer", lm=lm), examples(2))
    assert lm.requests == []


def test_a_metric_that_returns_no_number_stops_the_run():
    with pytest.raises(UsageError, match=r"metric <lambda>|metric lambda returned 'yes' for example 'q0'"):
        evaluate(Predict("question -> answer"), examples(), lambda e, p: "yes", lm=scripted(), progress=False)


def test_a_program_that_returns_no_prediction_stops_the_run():
    def program(*, question: str, lm=None) -> str:
        return "Paris"

    with pytest.raises(UsageError, match=r"returned str; a program evaluated by refine\.evaluate returns a"):
        evaluate(program, examples(), metrics.em, lm=scripted(), progress=False)


class Colour(enum.Enum):
    RED = "red"


class Point(BaseModel):
    x: int


def test_outputs_are_written_as_json_values():
    passage = Passage.create("T", "text")
    hit = BM25Retriever.build([passage, Passage.create("U", "other")]).search("text", k=1)[0]
    value = {"passages": [passage, hit], "colour": Colour.RED, "point": Point(x=1), "tags": {"b", "a"}, 1: 2.5}
    assert jsonable(value) == {
        "passages": [passage.id, passage.id],
        "colour": "red",
        "point": {"x": 1},
        "tags": ["a", "b"],
        "1": 2.5,
    }
    assert jsonable(float("nan")) == "nan" and jsonable(object()).startswith("<object object")


def test_failures_raised_outside_a_module_still_count_their_usage():
    program = Predict("question -> answer", assertions=[Assert(lambda p: False, "Never.")], max_backtracks=2)
    report = evaluate(program, examples(1), metrics.em, lm=scripted(), progress=False)
    row = report.rows[0]
    assert row.error.type == AssertionFailed.__name__ and row.usage.calls == 3 and row.backtracks == 2
