"""``grantops sandbox``: run the sandbox GitHub, and rehearse a review on it.

``serve`` answers GitHub's REST calls from a state file; with ``--git NAME=PATH`` the
repository NAME keeps its branches in the local git repository PATH (the bare remote
a request pushes to), so pull requests open from real branches. ``approve`` and
``merge`` then play the reviewer through GitHub's own endpoints, as the account given
with ``--as``: the sandbox makes the merge commit in that repository, and the local
checkout is brought up to date, so the next ``grantops plan`` proves the approval.
"""

from __future__ import annotations

import argparse
import json
import signal
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from types import FrameType

from grantops import gitrepo
from grantops.commands.common import EXIT_OK, Io, add_root_option, api_url
from grantops.errors import GrantopsError, UsageError
from grantops.github import DEFAULT_API_URL, GitHub, GitHubError
from grantops.sandbox import Sandbox, Settings
from grantops.sandbox.appauth import AppSettings
from grantops.sandbox.fixtures import SandboxState
from grantops.statefile import dump_state, read_state_file


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = sub.add_parser("sandbox", help="a local GitHub that speaks the REST API grantops uses")
    actions = parser.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="serve a state file over HTTP until interrupted")
    serve.add_argument("--state", type=Path, required=True, help="the org's state file")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--latency-ms", type=int, default=0, help="delay added to each request")
    serve.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="fraction of requests failing with 500, 502 or a timeout",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed for the fault dice")
    serve.add_argument("--token", help="accept only this token (default: any token)")
    serve.add_argument("--save", action="store_true", help="write the state back on exit")
    serve.add_argument(
        "--git",
        action="append",
        default=[],
        metavar="REPO=PATH",
        help="the local git repository (e.g. the bare remote) holding REPO's branches; "
        "pull requests open from it and merge into it (repeat for several)",
    )
    _add_app_options(serve)
    for name, what in (
        ("open", "open a pull request from a pushed branch"),
        ("approve", "approve a pull request"),
        ("merge", "merge a pull request"),
    ):
        action = actions.add_parser(name, help=f"{what} on a running sandbox")
        add_root_option(action)
        if name != "open":
            action.add_argument(
                "--pull", type=int, required=True, metavar="N", help="the pull request's number"
            )
        action.add_argument(
            "--as", dest="login", required=True, metavar="LOGIN", help="the account acting"
        )
        action.add_argument(
            "--access-repo",
            required=True,
            metavar="OWNER/NAME",
            help="the access repository the pull request is in",
        )
        action.add_argument("--api-url", help="the sandbox's URL (default: $GITHUB_API_URL)")
    opening = actions.choices["open"]
    opening.add_argument("--head", required=True, metavar="BRANCH", help="the pushed branch")
    opening.add_argument("--base", default="main", metavar="BRANCH", help="default: main")
    opening.add_argument("--title", required=True, help="the pull request's title")
    merge = actions.choices["merge"]
    merge.add_argument(
        "--method",
        choices=("merge", "squash"),
        default="merge",
        help="a merge commit (default) or one squashed commit, as GitHub offers",
    )
    merge.add_argument("--remote", default="origin", help="git remote to update --root from")


def _add_app_options(serve: argparse.ArgumentParser) -> None:
    """A GitHub App the sandbox mints installation tokens for, as GitHub does."""
    serve.add_argument("--app-id", type=int, metavar="N", help="serve a GitHub App with this id")
    serve.add_argument(
        "--app-public-key",
        type=Path,
        metavar="FILE",
        help="the App's public key (PEM) that its JWTs are checked against",
    )
    serve.add_argument(
        "--app-installation",
        type=int,
        default=1,
        metavar="ID",
        help="the App's installation id on the org (default: 1)",
    )
    serve.add_argument(
        "--token-lifetime",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="how long an installation token lives (default: 3600, as on GitHub)",
    )


def _app_settings(args: argparse.Namespace) -> AppSettings | None:
    if args.app_id is None and args.app_public_key is None:
        return None
    if args.app_id is None or args.app_public_key is None:
        raise UsageError("--app-id and --app-public-key go together")
    if args.token_lifetime < 1:
        raise UsageError("--token-lifetime must be at least 1 second")
    try:
        key = args.app_public_key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"--app-public-key {args.app_public_key}: cannot read it") from None
    return AppSettings(args.app_id, key, args.app_installation, args.token_lifetime)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    if args.sandbox_command == "open":
        return _open(args, io)
    if args.sandbox_command == "approve":
        return _approve(args, io)
    if args.sandbox_command == "merge":
        return _merge(args, io)
    state = read_state_file(args.state, SandboxState)
    settings = Settings(
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        seed=args.seed,
        token=args.token,
        git=_git_sides(args.git),
        app=_app_settings(args),
    )
    try:
        sandbox = Sandbox(state, host=args.host, port=args.port, settings=settings)
    except ValueError as exc:
        raise UsageError(f"--git: {exc}") from None
    io.out(f"Sandbox GitHub for org {state.org} listening on {sandbox.url}")
    io.out(f"Try: GITHUB_TOKEN=any grantops plan --api-url {sandbox.url}")
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
        if args.save:
            args.state.write_text(dump_state(sandbox.state()), encoding="utf-8")
            io.out(f"saved the sandbox's state to {args.state}")
    return EXIT_OK


def _git_sides(given: list[str]) -> dict[str, Path]:
    sides = {}
    for item in given:
        name, _, path = item.partition("=")
        if not name or not path or not Path(path).is_dir():
            raise UsageError(f"--git {item!r}: give REPO=PATH, PATH a git repository")
        sides[name] = Path(path).resolve()
    return sides


def _open(args: argparse.Namespace, io: Io) -> int:
    """Open a pull request by hand, e.g. the one that lands the policy itself."""
    owner, name = _slug(args)
    with _as_account(args, io) as github:
        try:
            number, _ = github.open_pull(
                owner, name, head=args.head, base=args.base, title=args.title, body=""
            )
        except GitHubError as exc:
            raise GrantopsError(f"{args.login} cannot open a pull request: {exc}") from None
    io.out(f"{args.login} opened {owner}/{name}#{number} from {args.head} into {args.base}.")
    return EXIT_OK


def _approve(args: argparse.Namespace, io: Io) -> int:
    owner, name = _slug(args)
    with _as_account(args, io) as github:
        title, _, _ = _read(github, owner, name, args.pull)
        try:
            head = github.review_pull(owner, name, args.pull, "APPROVE")
        except GitHubError as exc:
            raise GrantopsError(f"{args.login} cannot approve #{args.pull}: {exc}") from None
    io.out(f"{args.login} approved {owner}/{name}#{args.pull} ({title}) at its head {head[:7]}.")
    return EXIT_OK


def _merge(args: argparse.Namespace, io: Io) -> int:
    owner, name = _slug(args)
    with _as_account(args, io) as github:
        title, base, merged = _read(github, owner, name, args.pull)
        if merged:
            raise GrantopsError(f"{owner}/{name}#{args.pull} is merged already")
        try:
            made = github.merge_pull(owner, name, args.pull, args.method)
        except GitHubError as exc:
            raise GrantopsError(f"{args.login} cannot merge #{args.pull}: {exc}") from None
    io.out(f"{args.login} merged {owner}/{name}#{args.pull} ({title}) into {base} as {made[:7]}.")
    if gitrepo.fast_forward(args.root, args.remote, base):
        io.out(f"{args.root} is up to date: the next grantops plan sees the merge.")
    else:
        io.out(f"Bring {args.root} up to date before the next plan: git pull {args.remote} {base}")
    return EXIT_OK


def _read(github: GitHub, owner: str, name: str, number: int) -> tuple[str, str, bool]:
    try:
        return github.pull_summary(owner, name, number)
    except GitHubError as exc:
        raise GrantopsError(f"cannot read {owner}/{name}#{number}: {exc}") from None


def _slug(args: argparse.Namespace) -> tuple[str, str]:
    owner, _, name = str(args.access_repo).partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(f"--access-repo {args.access_repo!r}: give OWNER/NAME")
    return owner, name


def _as_account(args: argparse.Namespace, io: Io) -> GitHub:
    """A client for the sandbox whose token acts as ``--as`` (``LOGIN:SECRET``).

    It talks only to a grantops sandbox: a token naming an account means nothing to
    GitHub, and the secret in it must never reach GitHub."""
    url = api_url(args, io).rstrip("/")
    if url == DEFAULT_API_URL or not _is_sandbox(url):
        raise UsageError(
            f"{url} is not a grantops sandbox: point --api-url (or GITHUB_API_URL) at the "
            "one grantops sandbox serve prints"
        )
    token = io.environ.get("GITHUB_TOKEN") or io.environ.get("GH_TOKEN") or "sandbox"
    return GitHub(url, f"{args.login}:{token.rpartition(':')[2]}")


def _is_sandbox(url: str) -> bool:
    """Whether ``url`` answers the sandbox's own ``/_sandbox/stats`` (no token sent)."""
    if not url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=10) as answer:
            return bool(answer.status == 200 and isinstance(json.load(answer), dict))
    except (OSError, ValueError, urllib.error.URLError):
        return False
