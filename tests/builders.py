"""Small constructors for pure-core tests: real models, built from the same YAML text."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from grantops.access import Principal, Target
from grantops.actual import ActualState
from grantops.model import Grant, GrantSpec, Policy
from grantops.statefile import StateFile, actual_from_state
from grantops.yamlfile import parse

from .conftest import POLICY

_GRANT: TypeAdapter[Any] = TypeAdapter(GrantSpec)


def policy(text: str = POLICY) -> Policy:
    return Policy.model_validate(parse(text).data)


def grant(path: str, **fields: str | list[str]) -> Grant:
    body = {"reason": "a test grant", **fields}
    return Grant(f"grants/{path}", _GRANT.validate_python(body))


def actual(**state: Any) -> ActualState:
    return actual_from_state(StateFile.model_validate({"org": "acme", **state}))


def user(login: str) -> Principal:
    return Principal.user(login)


def team(slug: str) -> Principal:
    return Principal.team(slug)


def repo(name: str) -> Target:
    return Target.repo("acme", name)


def team_target(slug: str) -> Target:
    return Target.team("acme", slug)
