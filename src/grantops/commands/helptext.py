"""What every ``--help`` ends with: examples and the exit codes of that command.

One table for the whole command line, so exit codes read the same everywhere and a
command added without its examples fails ``tests/test_cli_help.py``. Each entry is
keyed by the command's words (``"audit report"``; ``""`` is ``grantops`` itself).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Help:
    """A command's examples (each a command line with what it does) and exit codes."""

    examples: tuple[tuple[str, str], ...]
    codes: tuple[tuple[int, str], ...]

    def epilog(self) -> str:
        lines = ["examples:"]
        for command, what in self.examples:
            lines += [f"  {command}", f"      {what}"]
        lines += ["", "exit codes:"]
        codes = sorted((*self.codes, (2, USAGE)))
        lines += [f"  {code}  {meaning}" for code, meaning in codes]
        return "\n".join(lines)


USAGE = "usage error: an unknown or misused option, a bad value, a missing token"
INCOMPLETE = "part of it could not be done: a file with an error, a review or target that "
UNREVIEWED = "; or a grant is on the branch without a valid review (it gave nothing)"
PLAN_CODES = (
    (0, "the plan is complete (with --detailed-exitcode: and empty)"),
    (1, INCOMPLETE + "could not be read" + UNREVIEWED),
    (3, "the brakes limited the run to expiries (see --allow-mass-removal)"),
)
GROUP = ((0, "the action succeeded"), (1, "see the action's own --help"))

HELP: dict[str, Help] = {
    "": Help(
        (
            ("grantops validate", "check the policy and every grant file"),
            ("grantops plan", "show what apply would change"),
            ("grantops request --repo ledger --permission pull --for 4h --reason ...",
             "ask for access: write a grant file"),
            ("grantops demo", "the whole loop against a local sandbox GitHub"),
        ),
        (
            (0, "ok"),
            (1, "errors: invalid input, something that could not be read or changed"),
            (3, "plan or apply: an unsafe plan was limited to expiries"),
            (4, "plan --detailed-exitcode: there are changes"),
        ),
    ),
    "init": Help(
        (
            ("grantops init --org acme --owners @acme/security",
             "write the policy from the access acme has today, CODEOWNERS and workflows"),
            ("grantops init --state state.json --owners @acme/security --dry-run",
             "from a snapshot, offline; list the files without writing them"),
        ),
        ((0, "written (or listed, with --dry-run)"),
         (1, "a file exists (nothing written; --force overwrites), or the org could not be "
             "read")),
    ),
    "validate": Help(
        (
            ("grantops validate", "check grants/policy.yaml and every grant file"),
            ("grantops validate --now 2026-12-01T09:00:00Z --json", "as it will stand then"),
        ),
        ((0, "valid (warnings allowed)"), (1, "a file has an error, named with its line")),
    ),
    "plan": Help(
        (
            ("grantops plan", "compare GitHub with the grants; the access repository "
             "is $GITHUB_REPOSITORY in GitHub Actions, else the remote origin"),
            ("grantops plan --access-repo acme/access --json", "the plan as JSON"),
            ("grantops plan --state state.json", "offline, against a state file"),
            ("grantops plan --out plan.json", "save it for apply --plan"),
        ),
        (*PLAN_CODES, (4, "with --detailed-exitcode: the plan has changes")),
    ),
    "apply": Help(
        (
            ("grantops apply", "show the plan; change nothing (a dry run)"),
            ("grantops apply --yes", "change GitHub to match, one change at a time"),
            ("grantops apply --plan plan.json --yes", "only if the plan is still plan.json"),
        ),
        (
            *PLAN_CODES[:1],
            (1, INCOMPLETE + "could not be read, a change that failed" + UNREVIEWED),
            PLAN_CODES[2],
        ),
    ),
    "watch": Help(
        (
            ("grantops watch", "a dry run: show what would change at each start and end"),
            ("grantops watch --yes --listen 127.0.0.1:9100 --push-audit",
             "the always-on service, with /healthz and /metrics"),
            ("grantops watch --yes --horizon 30m --for 40m",
             "GitHub Actions: stay only for windows due before the next scheduled run"),
        ),
        (
            (0, "stopped: by --for, --until, --horizon or a signal (the change in flight is "
                "finished and recorded)"),
            (1, "a change failed and was not made later, or the last full reconcile could not "
                "be completed"),
            (2, "usage error"),
        ),
    ),
    "request": Help(
        (
            ("grantops request --repo payments-api --permission push --for 4h "
             '--reason "INC-4821 hotfix" --open-pr',
             "write the grant file, check it and open its pull request"),
            ('grantops request --team prod-deployers --role maintainer --starts 2h --for 8h '
             '--reason "CHG-1207 release"', "team membership from two hours from now"),
            ('grantops request --team sre --repo ledger --permission maintain '
             '--until 2026-12-01T18:00:00Z --reason "INC-4830"', "a team's access"),
            ("grantops request", "in a terminal: asked for each missing value, offered "
             "only what the policy allows"),
            ("grantops request --from-issue 42",
             "access request issue 42: open or update its pull request, comment the plan"),
            ("grantops request --close-merged 43",
             "grant pull request 43 was merged or closed: close its request issue"),
        ),
        (
            (0, "the file was written (and the pull request opened)"),
            (1, "the policy refuses the request (nothing is written; from an issue, the "
                "problems are commented on it), or git or GitHub failed"),
        ),
    ),
    "extend": Help(
        (
            ("grantops extend grants/octocat/2026-11-30-payments-api.yaml --by 2h --open-pr",
             "push the end back two hours and open the pull request"),
        ),
        (
            (0, "the file was changed (and the pull request opened)"),
            (1, "the policy refuses the new window (the file is left as it was), or git "
             "or GitHub failed"),
        ),
    ),
    "revoke": Help(
        (
            ("grantops revoke grants/octocat/2026-11-30-payments-api.yaml --open-pr",
             "remove the file and open the pull request"),
        ),
        ((0, "the file was removed (and the pull request opened)"),
         (1, "git or GitHub failed")),
    ),
    "snapshot": Help(
        (
            ("grantops snapshot --out state.json", "today's access in managed scope"),
            ("grantops plan --state state.json", "then plan against it offline"),
        ),
        ((0, "written"), (1, "the policy is invalid, or a repository or team could not "
                          "be read (written without it)")),
    ),
    "audit": Help(
        (("grantops audit verify", "check the log"),
         ("grantops audit report --since 14d", "the last two weeks")),
        GROUP,
    ),
    "audit verify": Help(
        (
            ("grantops audit verify", "check audit/log.jsonl's hash chain and git history"),
            ("GRANTOPS_EVIDENCE_KEY=... grantops audit verify --json", "and its MACs, as JSON"),
        ),
        ((0, "the log is intact"), (1, "the chain, a MAC or the git history is broken")),
    ),
    "audit report": Help(
        (
            ("grantops audit report --since 14d", "who had which access in the last 14 days"),
            ("grantops audit report --since 2026-10-01T00:00:00Z --until "
             "2026-12-31T00:00:00Z --format csv", "a quarter, for a spreadsheet"),
            ("grantops audit report --since 90d --json", "the same as --format json"),
        ),
        ((0, "reported"), (1, "the log fails grantops audit verify; nothing is reported")),
    ),
    "health": Help(
        (
            ("grantops health --dry-run", "say what the issue would get; change nothing"),
            ("grantops health --max-age 2h --json",
             "allow two hours without a successful run"),
        ),
        ((0, "healthy (an open health issue is closed)"),
         (1, "failed, missing, or unknown (the runs could not be read)")),
    ),
    "schema": Help(
        (("grantops schema --write", "regenerate schema/*.json"),
         ("grantops schema --check", "fail when they are out of date")),
        ((0, "written, or up to date"), (1, "with --check: a schema is out of date")),
    ),
    "sandbox": Help(
        (("grantops sandbox serve --state state.json --port 8080", "serve a state file"),),
        GROUP,
    ),
    "sandbox serve": Help(
        (
            ("grantops sandbox serve --state state.json --port 8080",
             "then: GITHUB_TOKEN=any grantops plan --api-url http://127.0.0.1:8080"),
            ("grantops sandbox serve --state state.json --fault-rate 0.1 --save",
             "one request in ten fails; keep the changes on exit"),
            ("grantops sandbox serve --state state.json --app-id 1 --app-public-key app.pub",
             "then: GRANTOPS_APP_ID=1 GRANTOPS_APP_PRIVATE_KEY_FILE=app.pem grantops plan"),
        ),
        ((0, "stopped (Ctrl-C or SIGTERM)"), (1, "the state file cannot be read")),
    ),
    "sandbox open": Help(
        (("grantops sandbox open --api-url http://127.0.0.1:8080 --as security-lead "
          "--access-repo acme/access --head policy --title 'Policy'",
          "open the pull request that lands the policy itself"),),
        ((0, "opened"), (1, "the sandbox refused it (e.g. no such branch)")),
    ),
    "sandbox approve": Help(
        (("grantops sandbox approve --api-url http://127.0.0.1:8080 --pull 2 --as bob "
          "--access-repo acme/access", "bob approves pull request #2 at its head"),),
        ((0, "approved"), (1, "the sandbox refused it (e.g. the author's own approval)")),
    ),
    "sandbox merge": Help(
        (("grantops sandbox merge --api-url http://127.0.0.1:8080 --pull 2 --as bob "
          "--access-repo acme/access", "merge #2 and bring the checkout up to date"),),
        ((0, "merged"), (1, "the sandbox refused it, or it is merged already")),
    ),
    "demo": Help(
        (("grantops demo", "validate, plan, apply and audit an example org in a sandbox"),
         ("grantops demo --keep", "and keep its access repository to look at")),
        ((0, "every step succeeded"), (1, "a step failed (the demo stops there)")),
    ),
}  # fmt: skip


def parsers(
    parser: argparse.ArgumentParser, words: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the command line with its command words, the top one first."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, f"{words} {name}".strip())


def add_epilogs(parser: argparse.ArgumentParser) -> None:
    """Give every command its examples and exit codes, laid out as written."""
    for words, each in parsers(parser):
        each.formatter_class = argparse.RawDescriptionHelpFormatter
        if words in HELP:
            each.epilog = HELP[words].epilog()
