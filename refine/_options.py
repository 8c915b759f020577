"""Checks of the numeric and boolean options that constructors take, with one form of message.

``max_backtracks='2' must be an int >= 0, e.g. max_backtracks=2``: the value as given, what it
must be, and a value that works (``max_backtracks=-1 must be >= 0`` when only the range is
wrong). Each returns the value, so a constructor checks and stores in one line. Only
:mod:`refine.errors` is imported, so every layer can use these.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from refine.errors import UsageError

__all__ = ["check_bool", "check_int", "check_number"]


def check_int(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int if it is an integer (not a bool; a numpy int will do) >= ``minimum``
    (and <= ``maximum``, when there is one)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise UsageError(f"{name}={value!r} must be an int >= {minimum}, e.g. {name}={_int_example(value, minimum)}")
    if value < minimum:
        raise UsageError(f"{name}={value} must be >= {minimum}")
    if maximum is not None and int(value) > maximum:
        raise UsageError(f"{name}={value} must be <= {maximum}")
    return int(value)


def check_number(
    name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None, infinite: bool = False
) -> float:
    """``value`` as a float if it is a real number (not a bool, not NaN) >= ``minimum``.

    ``infinite=True`` lets infinity pass: ``threshold=float('inf')`` is a legitimate "never good
    enough, keep the best"; ``temperature=inf`` is not.
    """
    real = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
    if not real or not (infinite or math.isfinite(value)):
        what = ("a number" if infinite else "a finite number") + ("" if minimum is None else f" >= {minimum:g}")
        raise UsageError(f"{name}={value!r} must be {what}, e.g. {name}={_number_example(value, minimum)}")
    if minimum is not None and value < minimum:
        raise UsageError(f"{name}={value!r} must be >= {minimum:g}")
    if maximum is not None and value > maximum:
        raise UsageError(f"{name}={value!r} must be <= {maximum:g}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is True or False; ``1`` or ``'yes'`` are refused rather than guessed at."""
    if isinstance(value, bool):
        return value
    raise UsageError(f"{name}={value!r} must be True or False")


def _int_example(value: Any, minimum: int) -> int:
    """What the user probably meant (``'2'`` -> 2) when that is valid; else the smallest valid value."""
    try:
        guess = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return minimum
    return max(guess, minimum)


def _number_example(value: Any, minimum: float | None) -> float:
    floor = 0.0 if minimum is None else minimum
    try:
        guess = float(value) if isinstance(value, str) else floor
    except ValueError:
        return floor
    return guess if math.isfinite(guess) and guess >= floor else floor
