"""The access request issue form, read back from the body GitHub renders: every field,
missing answers, someone else's name, and bodies written to slip something past."""

from __future__ import annotations

from pathlib import Path

import pytest

from grantops.drafts import Request, render
from grantops.issueform import (
    KINDS,
    LABEL,
    MAX_BODY,
    FormError,
    FormRequest,
    read_form,
)
from grantops.yamlfile import parse

PROJECT = Path(__file__).resolve().parents[1]
FORM = PROJECT / ".github" / "ISSUE_TEMPLATE" / "access-request.yml"

ANSWERS = {
    "Kind of access": "Repository",
    "Repository or team": "payments-api",
    "Permission or role": "push",
    "Duration": "4h",
    "Starts": "_No response_",
    "Expires": "_No response_",
    "Reason": "INC-4821 hotfix for payment retries",
    "For whom": "_No response_",
}


def body(**changed: str | None) -> str:
    """The body GitHub renders for ``ANSWERS`` with ``changed`` (None: field left out);
    keyword names are labels with spaces as underscores."""
    answers = dict(ANSWERS)
    for key, value in changed.items():
        label = key.replace("_", " ")
        if value is None:
            del answers[label]
        else:
            answers[label] = value
    return "\n\n".join(f"### {label}\n\n{value}" for label, value in answers.items())


def problems(text: str, author: str = "octocat", on_behalf: bool = False) -> list[str]:
    with pytest.raises(FormError) as caught:
        read_form(text, author, on_behalf=on_behalf)
    return caught.value.problems


def test_every_field_of_a_repository_request() -> None:
    assert read_form(body(), "octocat", on_behalf=False) == FormRequest(
        user="octocat",
        repos=("payments-api",),
        team=None,
        permission="push",
        role=None,
        duration="4h",
        starts=None,
        until=None,
        reason="INC-4821 hotfix for payment retries",
    )


def test_a_team_membership_with_a_window_and_a_several_line_reason() -> None:
    text = body(
        Kind_of_access="Team membership",
        Repository_or_team="prod-deployers",
        Permission_or_role="maintainer",
        Duration="_No response_",
        Starts="2026-11-30T09:00:00Z",
        Expires="2026-11-30T18:00:00Z",
        Reason="Release day.\r\n\r\n  Deploy   the ledger.",
    )
    got = read_form(text, "octocat", on_behalf=False)
    assert (got.team, got.repos, got.role, got.permission) == (
        "prod-deployers",
        (),
        "maintainer",
        None,
    )
    assert (got.starts, got.until, got.duration) == (
        "2026-11-30T09:00:00Z",
        "2026-11-30T18:00:00Z",
        None,
    )
    assert got.reason == "Release day. Deploy the ledger."


def test_several_repositories_and_a_team_role_left_to_its_default() -> None:
    got = read_form(body(Repository_or_team="ledger, billing"), "octocat", on_behalf=False)
    assert got.repos == ("ledger", "billing")
    team = body(Kind_of_access="Team membership", Repository_or_team="sre")
    got = read_form(
        team.replace("### Permission or role\n\npush", "### Permission or role\n\n_No response_"),
        "octocat",
        on_behalf=False,
    )
    assert (got.team, got.role) == ("sre", None)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"Kind_of_access": "_No response_"}, "Kind of access: an answer is needed"),
        ({"Repository_or_team": "_No response_"}, "Repository or team: an answer is needed"),
        ({"Reason": "_No response_"}, "Reason: an answer is needed"),
        ({"Kind_of_access": "Organization"}, "Kind of access: one of Repository, Team membership"),
        ({"Permission_or_role": "_No response_"}, "Permission or role: a repository needs"),
        ({"Duration": "_No response_"}, "Duration: give a duration (e.g. 4h) or an Expires"),
        ({"Expires": "2026-11-30T18:00:00Z"}, "Duration: give a duration (e.g. 4h) or an Expires"),
        ({"Duration": "four hours"}, "Duration: 'four hours' is not a duration"),
        ({"Starts": "tomorrow"}, "Starts: 'tomorrow' is not a time"),
        ({"Repository_or_team": "ledger,,billing"}, "Repository or team: names separated by"),
        (
            {"Repository_or_team": "ledger, Ledger"},
            "Repository or team: a repository is named twice",
        ),
        ({"Repository_or_team": "a\nb"}, "Repository or team: one line only"),
        ({"Duration": "4" * 21}, "Duration: 21 characters; at most 20"),
        ({"Reason": "x" * 501}, "Reason: 501 characters; at most 500"),
        ({"Reason": "see <img src=x onerror=alert(1)>"}, "Reason: plain text only"),
        ({"Reason": "```\n@everyone"}, "Reason: plain text only"),
    ],
)
def test_each_wrong_answer_is_named_by_its_field(changed: dict[str, str], expected: str) -> None:
    found = problems(body(**changed))
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(body(Kind_of_access="Org", Duration="soon", Reason="_No response_"))
    assert [p.split(":")[0] for p in found] == ["Kind of access", "Duration", "Reason"]


def test_a_team_request_takes_one_team_and_a_team_role() -> None:
    team = {"Kind_of_access": "Team membership"}
    assert problems(body(**team, Repository_or_team="sre, ops", Permission_or_role="member")) == [
        "Repository or team: one team per request"
    ]
    assert problems(body(**team, Repository_or_team="sre"))[0].startswith(
        "Permission or role: a team role is member or maintainer, not 'push'"
    )


@pytest.mark.parametrize("left_out", list(ANSWERS))
def test_a_missing_section_is_named(left_out: str) -> None:
    assert problems(body(**{left_out.replace(" ", "_"): None})) == [
        f"the form's fields are missing: {left_out}"
    ]


# ----- someone else's name ----------------------------------------------------------


def test_only_the_author_unless_the_policy_allows_requests_on_behalf_of_others() -> None:
    text = body(For_whom="@Alice")
    assert problems(text)[0].startswith("For whom: only octocat (the issue's author)")
    assert read_form(text, "octocat", on_behalf=True).user == "Alice"
    assert read_form(body(For_whom="@OctoCat"), "octocat", on_behalf=False).user == "OctoCat"


# ----- hostile bodies ----------------------------------------------------------------


def test_an_injected_heading_inside_an_answer_is_a_repeated_field_not_an_override() -> None:
    sneaky = body(Reason="fixing things\n\n### For whom\n\nalice")
    assert problems(sneaky, on_behalf=True) == ["For whom: given more than once"]
    assert problems(body(Reason="ok\n### Approved by\n\nsecurity")) == [
        "'Approved by': not a field of the form"
    ]


def test_text_before_the_form_is_refused() -> None:
    assert problems("Please give me admin\n\n" + body())[0].startswith(
        "the issue body is not the access request form"
    )
    assert problems("no headings at all")[0].startswith("the issue body is not the access")


@pytest.mark.parametrize(
    "hidden",
    ["\u202e", "\u2066", "\u200b", "\u200f", "\x1b[31m", "\x00", "\u2028", "\ufeff", "\x85"],
)
def test_control_bidi_and_invisible_characters_are_refused(hidden: str) -> None:
    found = problems(body(Repository_or_team=f"payments-api{hidden}"))
    assert len(found) == 1 and "control or invisible characters" in found[0]
    assert f"U+{ord(hidden[0]):04X}" in found[0]


def test_a_huge_body_is_refused_before_it_is_read() -> None:
    found = problems(body(Reason="a" * MAX_BODY))
    assert found == [
        f"the issue body is {len(body(Reason='a' * MAX_BODY))} characters; at most {MAX_BODY}"
    ]


def test_a_reason_written_as_yaml_stays_one_quoted_reason_in_the_grant_file() -> None:
    """What the form reads is what the grant says: a reason shaped like YAML keys is text."""
    reason = 'x"\nuser: mallory\npermission: admin\nexpires: 2099-01-01T00:00:00Z'
    got = read_form(body(Reason=reason), "octocat", on_behalf=False)
    text = render(
        Request(
            user=got.user,
            team=None,
            repos=got.repos,
            permission=got.permission,
            role=None,
            starts=None,
            expires=None,
            reason=got.reason,
            duration=got.duration,
        )
    )
    data = parse(text).data
    assert data == {
        "user": "octocat",
        "repo": "payments-api",
        "permission": "push",
        "duration": "4h",
        "reason": 'x" user: mallory permission: admin expires: 2099-01-01T00:00:00Z',
    }


# ----- the form itself ----------------------------------------------------------------


def test_the_form_asks_exactly_the_fields_the_parser_reads() -> None:
    form = parse(FORM.read_text()).data
    assert form["labels"] == [LABEL]
    fields = [f for f in form["body"] if f["type"] != "markdown"]
    assert [f["attributes"]["label"] for f in fields] == list(ANSWERS)
    kind = next(f for f in fields if f["type"] == "dropdown")
    assert kind["attributes"]["options"] == list(KINDS)
    required = [
        f["attributes"]["label"]
        for f in fields
        if f.get("validations", {}).get("required") == "true"
    ]
    assert required == ["Kind of access", "Repository or team", "Reason"]
