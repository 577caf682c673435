"""``sitegate department head DEPARTMENT EMPLOYEE_ID``: name a department's head, who then
approves its contact forms (R5) as its safety officers do; ``--none`` instead of an id
removes the head. DEPARTMENT is a department id as config.toml names it (a zone's, the
safety or dispatch department, or one the reception routes to)."""

from __future__ import annotations

import argparse
import sys

from sitegate.wiring import load_or_exit, open_database
from zones.db import session_factory
from zones.errors import DomainError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="department_command", required=True, metavar="ACTION")
    head = sub.add_parser("head", help="name the head of a department (R5: approves its contact forms)")
    head.add_argument("department", help="department id, as config.toml names it")
    who = head.add_mutually_exclusive_group(required=True)
    who.add_argument("employee_id", nargs="?", type=int, help="the employee's id")
    who.add_argument("--none", action="store_true", help="the department has no head any more")


def run(args: argparse.Namespace) -> int:
    from zones.services import known_departments, set_department_head

    config = load_or_exit(args.config)
    known = known_departments(config)
    if args.department not in known:
        print(f"department: unknown {args.department!r}; expected one of {', '.join(known)}", file=sys.stderr)
        return 2
    engine = open_database(config)
    try:
        with session_factory(engine)() as session:
            set_department_head(session, args.department, None if args.none else args.employee_id)
    except DomainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"head of {args.department}: {'none' if args.none else args.employee_id}")
    return 0
