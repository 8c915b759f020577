from __future__ import annotations

import threading

import pytest

from refine import LMError, ParseError, Predict, Regex, ScriptedLM, UnsupportedConstraint, UsageError, using
from refine.constraints import Choice, cited_text_pattern
from refine.lm import LMRequest, Message


def test_predict_returns_fields_and_history():
    lm = ScriptedLM(["Answer: Paris\nConfidence: 0.8"])
    pred = Predict("question -> answer, confidence: float", lm=lm)(question="Capital of France?")
    assert pred.answer == "Paris"
    assert pred["confidence"] == 0.8
    assert len(pred.attempts) == 1 and pred.attempts[0].ok
    assert pred.usage.calls == 1
    assert lm.requests[0].messages[-1].content == "Question: Capital of France?"


def test_unparseable_reply_is_retried_with_feedback_appended():
    lm = ScriptedLM(["Answer: Paris\nConfidence: high", "Answer: Paris\nConfidence: 0.5"], supports=())
    pred = Predict("question -> answer, confidence: float", lm=lm)(question="q")
    assert pred.confidence == 0.5
    first, second = lm.requests
    assert second.messages[: len(first.messages)] == first.messages  # the prompt stays a prefix
    assert second.messages[-2] == Message("assistant", "Answer: Paris\nConfidence: high", generated=True)
    assert "should be float" in second.messages[-1].content
    assert second.seed != first.seed and second.temperature > 0
    assert [a.ok for a in pred.attempts] == [False, True]


def test_exhausted_retries_raise_a_parse_error_with_attempts():
    lm = ScriptedLM(["nonsense", "still nonsense"], supports=())
    with pytest.raises(ParseError, match="no parseable reply after 2 attempts") as info:
        Predict("question -> answer, confidence: float", lm=lm, max_backtracks=1)(question="q")
    assert len(info.value.attempts) == 2


def test_using_sets_the_default_lm_for_the_block_only():
    lm = ScriptedLM(["Paris"])
    with using(lm=lm):
        assert Predict("question -> answer")(question="q").answer == "Paris"
    results = []
    thread = threading.Thread(target=lambda: results.append(Predict("q -> a", lm=ScriptedLM(["x"]))(q="1").a))
    thread.start()
    thread.join()
    assert results == ["x"]


def test_scripted_lm_reports_exhaustion_and_constraint_violations():
    lm = ScriptedLM(["abc"])
    request = LMRequest((Message("user", "hi"),), constraint=Regex("[0-9]+"))
    with pytest.raises(LMError, match="breaks the request's constraint"):
        lm.complete(request)
    with pytest.raises(LMError, match="ran out of replies: call 2 but only 1 were scripted"):
        lm.complete(LMRequest((Message("user", "hi"),)))


def test_backend_refuses_constraints_it_cannot_enforce_by_name():
    lm = ScriptedLM(["yes"], supports=(), name="plain")
    request = LMRequest((Message("user", "hi"),), constraint=Choice(("yes", "no")))
    with pytest.raises(UnsupportedConstraint, match="backend 'plain' cannot enforce Choice constraints"):
        lm.complete(request)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_tokens": 0}, "max_tokens=0 must be >= 1"), ({"temperature": -1}, "temperature=-1 must be >= 0")],
)
def test_request_validation(kwargs, message):
    with pytest.raises(UsageError, match=message):
        LMRequest((Message("user", "hi"),), **kwargs)
    with pytest.raises(UsageError, match="needs at least one message"):
        LMRequest(())


def test_only_an_assistant_turn_is_generated():
    assert Message("assistant", "Paris [1].", generated=True).generated
    with pytest.raises(UsageError, match=r"Message\(role='user', generated=True\): only an assistant turn"):
        Message("user", "hi", generated=True)


def test_cited_text_pattern_admits_only_given_passages():
    rx = Regex(cited_text_pattern(3))
    assert rx.matches("Cats purr when happy [1]. Dogs bark loudly [3].")
    assert rx.matches("Cats purr when happy [1][2].")
    assert not rx.matches("Cats purr when happy [4].")
    assert not rx.matches("Cats purr when happy.")
    assert Regex(cited_text_pattern(12)).matches("Twelve passages given [12].")
    with pytest.raises(UsageError, match="n_passages=0 must be >= 1"):
        cited_text_pattern(0)
    with pytest.raises(UsageError, match="not a valid regular expression"):
        Regex("(")


@pytest.mark.parametrize("bad", [None, b"Paris", 3])
def test_a_scripted_reply_function_must_return_text(bad):
    predict = Predict("question -> answer", lm=ScriptedLM([lambda request: bad]))
    with pytest.raises(UsageError, match=r"reply 1 is a function that returned .* must return the reply text as a str"):
        predict(question="q")


@pytest.mark.parametrize("bad", [None, b"Paris", 3])
def test_a_scripted_reply_must_be_text_or_a_function(bad):
    with pytest.raises(UsageError, match=r"ScriptedLM reply 2 is .* each reply must be the reply text as a str"):
        ScriptedLM(["ok", bad])
    with pytest.raises(UsageError, match="pass a list of replies"):
        ScriptedLM("Paris")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_tokens": "5"}, r"max_tokens='5' must be an int >= 1, e.g. max_tokens=5"),
        ({"temperature": "hot"}, r"temperature='hot' must be a finite number >= 0"),
        ({"seed": 1.5}, r"seed=1.5 must be an int >= 0"),
        ({"stop": ("\n", 3)}, r"stop=\('\\n', 3\) must be strings"),
        ({"messages": ("hello",)}, r"messages\[0\]='hello' must be a Message"),
    ],
)
def test_a_request_refuses_bad_values_by_name(changes, message):
    fields = {"messages": (Message("user", "hi"),), **changes}
    with pytest.raises(UsageError, match=message):
        LMRequest(**fields)


def test_an_input_that_is_not_utf8_text_is_refused_before_the_model_is_called():
    lm = ScriptedLM(["Paris"])
    with pytest.raises(UsageError, match=r"input 'question' holds the byte\(s\) b'\\xff', which are not UTF-8, at"):
        Predict("question -> answer", lm=lm)(question="yield \udcff")
    assert lm.requests == []
