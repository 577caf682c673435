"""``sitegate user ACTION``: manage employees / users in the database config.toml names.

- ``create NAME --role ROLE [--escort-zones z1,z2] [--card CARD] [--department D]`` prints one
  line ``token: <TOKEN>`` holding a new API token (contract.md);
- ``token NAME`` prints another token; ``revoke-token`` revokes the token read from standard
  input (so it never lands in the shell's history);
- ``set-password NAME`` reads the new panel password from standard input;
- ``deactivate NAME``: no more sign-in nor tokens;
- ``tokens NAME`` lists the user's tokens (id, created, expires, last used: never the token);
- ``revoke-tokens NAME [--token-id ID]`` revokes all of them, or one by its id.

New tokens expire after config ``[web] token_days``; passwords need ``[web] min_password_length``
characters."""

from __future__ import annotations

import argparse
import sys

from sitegate.options import config_option
from sitegate.wiring import load_or_exit, open_database
from zones.db import session_factory
from zones.errors import DomainError, ValidationFailed
from zones.schema import ROLES


def _zone_list(text: str) -> list[str]:
    return [z.strip() for z in text.split(",") if z.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = sub.add_parser(
        "create", parents=[config_option()], help="create an employee / user and print a new API token"
    )
    create.add_argument("name", help="the employee's name, as the pages show it")
    create.add_argument("--login", help="their sign-in name, when it is not their name (default: the name)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--escort-zones", type=_zone_list, default=[], help="zones they may escort in (R10), z1,z2")
    create.add_argument("--access-zones", type=_zone_list, default=[], help="zones they may enter alone, z1,z2")
    create.add_argument("--card", help="their access card number")
    create.add_argument("--department", help="their department (config zones name departments)")
    create.add_argument("--phone", help="phone number, shown on the muster list (R16)")
    create.add_argument("--dispatch-room", action="store_true", help="dispatch-room staff: may escort at night (R14)")
    create.add_argument("--password-stdin", action="store_true", help="read a panel password from standard input")
    token = sub.add_parser("token", parents=[config_option()], help="print a new API token for an existing user")
    token.add_argument("name")
    sub.add_parser("revoke-token", parents=[config_option()], help="revoke the API token read from standard input")
    for action, help_text in ACCOUNT_ACTIONS.items():
        sub.add_parser(action, parents=[config_option()], help=help_text).add_argument("name")
    revoke = sub.choices["revoke-tokens"]
    revoke.add_argument("--token-id", type=int, help="revoke only this token (an id from `user tokens`)")


ACCOUNT_ACTIONS = {
    "set-password": "set a user's panel password, read from standard input",
    "deactivate": "deactivate a user: no sign-in, no tokens, sessions end",
    "tokens": "list a user's API tokens (id, created, expires, last used)",
    "revoke-tokens": "revoke a user's API tokens (all, or --token-id ID)",
}


def run(args: argparse.Namespace) -> int:
    if args.user_command in ACCOUNT_ACTIONS:
        from sitegate.commands.user_accounts import run_account_action

        return run_account_action(args)
    if args.user_command != "create":
        return _tokens(args)
    from zones.services import create_user

    config = load_or_exit(args.config)
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    engine = open_database(config)
    try:
        with session_factory(engine)() as session:
            _emp, token = create_user(
                session,
                args.name,
                args.role,
                login=args.login,
                department=args.department,
                escort_zones=args.escort_zones,
                card=args.card,
                password=password,
                access_zones=args.access_zones,
                phone=args.phone,
                dispatch_room=args.dispatch_room,
                zones=config.zone_map(),
                min_password_length=config.web.min_password_length,
                token_days=config.web.token_days,
            )
    except ValidationFailed as err:
        for field, message in err.fields:
            print(f"{field.replace('_', '-')}: {message}", file=sys.stderr)
        return 2
    except DomainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"token: {token}")
    return 0


def _tokens(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from zones.schema import Employee
    from zones.services.people import create_token, revoke_token, signs_in_as

    config = load_or_exit(args.config)
    engine = open_database(config)
    try:
        with session_factory(engine)() as session:
            if args.user_command == "revoke-token":
                revoke_token(session, sys.stdin.readline().strip())
                print("token revoked")
                return 0
            emp = session.scalar(select(Employee).where(signs_in_as(args.name)).order_by(Employee.id))
            if emp is None:
                print(f"name: no user called {args.name!r}", file=sys.stderr)
                return 2
            print(f"token: {create_token(session, emp.id, config.web.token_days)}")
            return 0
    except DomainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
