"""The account actions of ``sitegate user``: set-password, deactivate, tokens, revoke-tokens
(issue 10). A token is listed by its id and dates only: its value is shown once, when it
is made, and only its hash is stored."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from sitegate.wiring import load_or_exit, open_database
from zones.db import session_factory
from zones.errors import DomainError, ValidationFailed


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def run_account_action(args: argparse.Namespace) -> int:
    from zones.services import people

    config = load_or_exit(args.config)
    password = sys.stdin.readline().rstrip("\r\n") if args.user_command == "set-password" else ""
    engine = open_database(config)
    try:
        with session_factory(engine)() as session:
            emp = people.user_by_name(session, args.name)
            if args.user_command == "set-password":
                people.set_password(session, emp.id, password, min_length=config.web.min_password_length)
                print(f"password of {emp.name} set; their page sessions ended")
            elif args.user_command == "deactivate":
                people.deactivate_user(session, emp.id)
                print(f"{emp.name} deactivated: no sign-in, tokens revoked")
            elif args.user_command == "tokens":
                print(f"{'id':>6}  {'created':20}  {'expires':20}  {'last used':20}  state")
                for t in people.list_tokens(session, emp.id):
                    print(
                        f"{t.id:>6}  {_when(t.created):20}  {_when(t.expires_at):20}  "
                        f"{_when(t.last_used_at):20}  {people.token_state(t)}"
                    )
            else:
                n = people.revoke_tokens(session, emp.id, args.token_id)
                print(f"{n} token(s) of {emp.name} revoked")
            return 0
    except ValidationFailed as err:
        for field, message in err.fields:
            print(f"{field.replace('_', '-')}: {message}", file=sys.stderr)
        return 2
    except DomainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
