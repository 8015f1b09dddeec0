"""The access request issue form, read back from the issue body GitHub renders (pure).

GitHub turns a submitted issue form into Markdown: one ``### Label`` heading per field,
a blank line, then the answer, or ``_No response_`` for an optional field left empty.
Anyone who can open an issue writes that body, and can edit it by hand afterwards, so
it is read strictly: every heading must be one of the form's labels, each exactly once;
every value is one line of plain text of bounded length (the reason's lines are joined);
control, bidirectional and other invisible format characters are refused outright. The
result is the options ``grantops request`` takes, so the grant file is written by the
same code, with the same checks, as one asked for at a terminal. Every problem is
reported at once, each naming its field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from grantops.values import parse_duration, parse_timestamp

LABEL = "access-request"
"""The label the form gives its issues; ``request --from-issue`` reads no other issue."""

MAX_BODY = 8000
"""Characters of the whole body: the form's answers fit many times over."""

NO_RESPONSE = "_No response_"

KIND = "Kind of access"
TARGET = "Repository or team"
LEVEL = "Permission or role"
DURATION = "Duration"
STARTS = "Starts"
EXPIRES = "Expires"
REASON = "Reason"
FOR_WHOM = "For whom"

KINDS = {"Repository": "repository", "Team membership": "team"}
"""The dropdown's options, as the form shows them, and what each asks for."""

_LONGEST = {
    KIND: 20,
    TARGET: 400,
    LEVEL: 100,
    DURATION: 20,
    STARTS: 40,
    EXPIRES: 40,
    REASON: 500,
    FOR_WHOM: 40,
}
"""Each field's label (the order the form shows them) and its longest answer."""

_REQUIRED = (KIND, TARGET, REASON)
_REASON_REFUSED = re.compile(r"[<>`]")
_HEADING = re.compile(r"^### (.*)$", re.MULTILINE)


class FormError(ValueError):
    """Why an issue body is not a request grantops can write: one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FormRequest:
    """The form's answers as ``grantops request`` options (None: not given)."""

    user: str
    repos: tuple[str, ...]
    team: str | None
    permission: str | None
    role: str | None
    duration: str | None
    starts: str | None
    until: str | None
    reason: str


def read_form(body: str, author: str, *, on_behalf: bool) -> FormRequest:
    """The request ``body`` asks for, filed by ``author``; raises :class:`FormError`.

    Someone other than ``author`` may be named under "For whom" only when the policy
    allows requests on behalf of others (``on_behalf``).
    """
    problems: list[str] = []
    answers = _sections(body, problems)
    if problems:
        raise FormError(problems)
    values = {label: _value(label, text, problems) for label, text in answers.items()}
    for label in _REQUIRED:
        if values.get(label) is None and not any(p.startswith(label) for p in problems):
            problems.append(f"{label}: an answer is needed")
    request = _request(values, author, on_behalf, problems)
    if problems or request is None:
        raise FormError(sorted(problems, key=_place))
    return request


def _place(problem: str) -> int:
    """Where the field a problem names is on the form, so problems read top to bottom."""
    labels = list(_LONGEST)
    label = problem.split(":", 1)[0]
    return labels.index(label) if label in labels else len(labels)


def _sections(body: str, problems: list[str]) -> dict[str, str]:
    """Each heading's text, by label; unknown, repeated or missing headings, text before
    the first heading, and characters that have no place in plain text are problems."""
    if len(body) > MAX_BODY:
        problems.append(f"the issue body is {len(body)} characters; at most {MAX_BODY}")
        return {}
    text = body.replace("\r\n", "\n")
    bad = sorted({f"U+{ord(c):04X}" for c in text if _hidden(c)})
    if bad:
        problems.append(f"the issue body holds control or invisible characters ({', '.join(bad)})")
        return {}
    headings = list(_HEADING.finditer(text))
    if not headings or text[: headings[0].start()].strip():
        problems.append("the issue body is not the access request form: it must start at ###")
    found: dict[str, str] = {}
    for index, heading in enumerate(headings):
        label = heading.group(1).strip()
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        if label not in _LONGEST:
            problems.append(f"{_shown(label)!r}: not a field of the form")
        elif label in found:
            problems.append(f"{label}: given more than once")
        else:
            found[label] = text[heading.end() : end].strip()
    missing = [label for label in _LONGEST if label not in found]
    if missing and not problems:
        problems.append(f"the form's fields are missing: {', '.join(missing)}")
    return found


def _hidden(char: str) -> bool:
    """Control characters other than a line break or tab, and format characters
    (bidirectional overrides, zero-width joiners...), which can show one text and mean
    another; line and paragraph separators too."""
    if char in "\n\t":
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")


def _value(label: str, text: str, problems: list[str]) -> str | None:
    """One field's answer as one line; None when left empty."""
    if text in ("", NO_RESPONSE):
        return None
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) > 1 and label != REASON:
        problems.append(f"{label}: one line only")
        return None
    value = " ".join(" ".join(lines).split())
    if len(value) > _LONGEST[label]:
        problems.append(f"{label}: {len(value)} characters; at most {_LONGEST[label]}")
        return None
    return value


def _request(
    values: dict[str, str | None], author: str, on_behalf: bool, problems: list[str]
) -> FormRequest | None:
    kind = _kind(values.get(KIND), problems)
    names = _names(values.get(TARGET), kind, problems)
    level = values.get(LEVEL)
    if kind == "repository" and level is None:
        problems.append(f"{LEVEL}: a repository needs a permission (pull, push...)")
    if kind == "team" and level not in (None, "member", "maintainer"):
        problems.append(f"{LEVEL}: a team role is member or maintainer, not {_shown(level)!r}")
    duration, starts, until = _window(values, problems)
    user = _grantee(values.get(FOR_WHOM), author, on_behalf, problems)
    reason = values.get(REASON)
    if reason is not None and _REASON_REFUSED.search(reason):
        problems.append(f"{REASON}: plain text only, without <, > or `")
    if problems or kind is None or reason is None:
        return None
    return FormRequest(
        user=user,
        repos=names if kind == "repository" else (),
        team=names[0] if kind == "team" else None,
        permission=level if kind == "repository" else None,
        role=level if kind == "team" else None,
        duration=duration,
        starts=starts,
        until=until,
        reason=reason,
    )


def _kind(value: str | None, problems: list[str]) -> str | None:
    if value is None:
        return None
    if value not in KINDS:
        problems.append(f"{KIND}: one of {', '.join(KINDS)}, not {_shown(value)!r}")
        return None
    return KINDS[value]


def _names(value: str | None, kind: str | None, problems: list[str]) -> tuple[str, ...]:
    """Repository names separated by commas, or one team slug."""
    if value is None:
        return ()
    names = tuple(name.strip() for name in value.split(","))
    if any(not name for name in names):
        problems.append(f"{TARGET}: names separated by single commas")
    elif kind == "team" and len(names) > 1:
        problems.append(f"{TARGET}: one team per request")
    elif len({n.lower() for n in names}) != len(names):
        problems.append(f"{TARGET}: a repository is named twice")
    return names


def _window(
    values: dict[str, str | None], problems: list[str]
) -> tuple[str | None, str | None, str | None]:
    """Duration (counted from Starts, else from the merge), or Expires; not both."""
    duration, starts, until = values.get(DURATION), values.get(STARTS), values.get(EXPIRES)
    if (duration is None) == (until is None):
        problems.append(f"{DURATION}: give a duration (e.g. 4h) or an {EXPIRES} time, not both")
    if duration is not None and _fails(parse_duration, duration):
        problems.append(f"{DURATION}: {_shown(duration)!r} is not a duration such as 4h or 1d12h")
    for label, text in ((STARTS, starts), (EXPIRES, until)):
        if text is not None and _fails(parse_timestamp, text):
            problems.append(f"{label}: {_shown(text)!r} is not a time such as 2026-11-30T18:00:00Z")
    return duration, starts, until


def _fails(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except (ValueError, TypeError, OverflowError):
        return True
    return False


def _grantee(value: str | None, author: str, on_behalf: bool, problems: list[str]) -> str:
    """The issue's author unless another login is named and the policy allows it."""
    if value is None:
        return author
    login = value.removeprefix("@")
    if login.lower() != author.lower() and not on_behalf:
        problems.append(
            f"{FOR_WHOM}: only {author} (the issue's author) may be asked for; this "
            "repository's policy does not allow requests on behalf of others"
        )
    return login


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
