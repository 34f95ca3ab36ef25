"""SEED codes in FDSN requests: comma-separated lists of codes or patterns, parsed and
validated with no I/O, and matched without backtracking.

Codes follow the FDSN conventions: comma-separated lists, ``*`` and ``?`` wildcards,
``--`` for the blank location code; they are ASCII (checked before case-folding, which
turns other letters into ASCII ones) and compared upper-case. A code parameter is at most
:data:`MAX_CODES_LENGTH` characters, wildcards included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import RequestError

__all__ = ["ANY", "CODE_PARAMS", "MAX_CODES_LENGTH", "CodePattern", "parse_codes"]

#: The code parameters, in SEED order.
CODE_PARAMS = ("network", "station", "location", "channel")
#: Longest code of each kind (SEED 2.4).
_MAX_LENGTH = {"network": 2, "station": 5, "location": 2, "channel": 3}
_PATTERN_CHARS = re.compile(r"[A-Z0-9*?]*")
_STAR_RUNS = re.compile(r"\*{2,}")
#: The longest value of a code parameter (a comma list), wildcards included: patterns are
#: matched against every listed channel, so their size must be bounded as a whole.
MAX_CODES_LENGTH = 400


@dataclass(frozen=True, slots=True)
class CodePattern:
    """One code, or a pattern of codes with ``*`` (any run) and ``?`` (one character).

    The blank location code is the empty string (``--`` in requests). Matching costs at most
    ``len(pattern) * len(code)`` steps: runs of ``*`` are collapsed when parsed and the
    matcher never backtracks further than to the last ``*`` (no regular expression: a
    pattern of many ``*`` became ``.*.*...``, whose backtracking took minutes of CPU while
    holding the GIL and stopped the whole server).
    """

    text: str

    @classmethod
    def parse(cls, text: str) -> CodePattern:
        """A pattern from already validated, upper-case text (runs of ``*`` collapsed)."""
        return cls(_STAR_RUNS.sub("*", text))

    @property
    def is_literal(self) -> bool:
        """Whether the pattern names exactly one code (no wildcard)."""
        return "*" not in self.text and "?" not in self.text

    def matches(self, code: str) -> bool:
        """Whether ``code`` is one of the codes the pattern names."""
        return _wildcard_match(self.text, code)


def _wildcard_match(pattern: str, code: str) -> bool:
    """Whether ``code`` matches ``pattern`` (``*``: any run, ``?``: one character).

    Greedy two-pointer matching: on a mismatch, only the most recent ``*`` absorbs one more
    character and matching resumes after it; earlier ``*`` never need to be revisited, so the
    cost is at most ``len(pattern) * len(code)`` steps, whatever the pattern.
    """
    p = c = 0
    star = -1  # index of the last * seen in the pattern
    resume = 0  # where in the code that * stopped absorbing
    while c < len(code):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, c
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", code[c]):
            p += 1
            c += 1
        elif star >= 0:
            resume += 1
            p, c = star + 1, resume
        else:
            return False
    return all(ch == "*" for ch in pattern[p:])


#: Every code: what a code parameter left out selects.
ANY = (CodePattern.parse("*"),)


def parse_codes(value: str, name: str) -> tuple[CodePattern, ...]:
    """A comma-separated list of code patterns.

    Raises:
        RequestError: the list is longer than ``MAX_CODES_LENGTH`` characters, or a pattern
            holds characters other than A-Z, 0-9, ``*``, ``?`` (and ``--`` for the location),
            or is longer than a code of its kind can be.
    """
    if len(value) > MAX_CODES_LENGTH:
        raise RequestError(
            f"{len(value)} characters of codes, at most {MAX_CODES_LENGTH} (wildcards included)",
            field=name,
        )
    patterns = []
    for raw in value.split(","):
        stripped = raw.strip()
        # ASCII first: upper() folds other letters into ASCII codes ('ß' -> 'SS', 'ı' -> 'I').
        text = stripped.upper() if raw.isascii() else raw
        if name == "location" and text == "--":
            text = ""
        elif text == "" and name != "location":
            raise RequestError(f"empty code in {value!r}", field=name)
        if not _PATTERN_CHARS.fullmatch(text):
            raise RequestError(
                f"{stripped!r} is not a {name} code: use letters A-Z, digits, the wildcards * "
                "and ?" + (", and -- for the blank location" if name == "location" else ""),
                field=name,
            )
        if len(text.replace("*", "")) > _MAX_LENGTH[name]:
            raise RequestError(
                f"{stripped!r} is longer than a {name} code ({_MAX_LENGTH[name]} characters)",
                field=name,
            )
        patterns.append(CodePattern.parse(text))
    return tuple(dict.fromkeys(patterns))  # in order, without repeats
