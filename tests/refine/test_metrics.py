from refine.metrics import exact_match, normalize_answer, token_f1


def test_squad_normalisation():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"


def test_exact_match_and_f1():
    assert exact_match("the Eiffel tower", ["Eiffel Tower", "tower"]) == 1.0
    assert exact_match("Eiffel", ["Eiffel Tower"]) == 0.0
    assert token_f1("Eiffel", ["Eiffel Tower"]) == 2 * (1 * 0.5) / 1.5
    assert token_f1("nothing here", ["Eiffel Tower"]) == 0.0
    assert token_f1("x", []) == 0.0
