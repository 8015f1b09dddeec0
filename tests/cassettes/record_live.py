"""Record fresh cassettes against a real GitHub test org (maintainers only).

Runs the client's collaborator cycle (invite, list, remove, cancel) against a
repository you own in a test org and writes what GitHub answered to
``tests/cassettes/live-collaborator-cycle.yaml``. The ``Authorization`` header is
filtered out before anything is written. It changes real access: use a throwaway
repository and a test account.

    GITHUB_TOKEN=... python tests/cassettes/record_live.py --org ORG --repo REPO --user LOGIN

``--user`` must not be a member of ORG, so adding them creates an invitation (201).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import vcr

from grantops.access import Principal, Target
from grantops.github.transport import DEFAULT_API_URL, RetryPolicy, Transport
from grantops.github.write import apply_change
from grantops.plan import Change

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--user", required=True, help="an account outside the org")
    parser.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", DEFAULT_API_URL))
    args = parser.parse_args(argv[1:])
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        parser.error("set GITHUB_TOKEN to a token of an org owner of the test org")
    recorder = vcr.VCR(
        cassette_library_dir=str(HERE), record_mode="all", filter_headers=["authorization"]
    )
    target, who = Target.repo(args.org, args.repo), Principal.user(args.user)
    with (
        recorder.use_cassette("live-collaborator-cycle.yaml"),
        Transport(args.api_url, token, retry=RetryPolicy()) as transport,
    ):
        print(
            apply_change(
                transport, args.org, Change("add", who, target, None, "push", "grant", None), {}
            )
        )
        params = {"owner": args.org, "repo": args.repo}
        print(transport.list("invitations", "repos", "list_invitations", **params))
        print(
            transport.list(
                "collaborators", "repos", "list_collaborators", affiliation="direct", **params
            )
        )
        print(
            apply_change(
                transport,
                args.org,
                Change("cancel_invitation", who, target, "push", None, "undeclared", None),
                {},
            )
        )
    print(f"wrote {HERE / 'live-collaborator-cycle.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
