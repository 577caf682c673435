"""``sitegate demo seed``: give a fresh demo database the staff a first walk-through needs.

Does nothing when the database already has employees, so it is safe on every ``./run demo``.
The accounts share one password, printed once; change or remove them before real use.
"""

from __future__ import annotations

import argparse

from sitegate.wiring import load_or_exit, open_database

DEMO_PASSWORD = "sitegate-demo"

# sign-in name, name (what the pages show), role, department, escort zones, card, dispatch room
STAFF = [
    ("admin", "Site Admin", "admin", None, (), None, False),
    ("reception", "Chen Mei", "reception", None, (), None, False),
    ("zhao", "Zhao Lei", "safety_officer", "steelmaking", (), None, False),
    ("liu", "Liu Yang", "safety_officer", "assembly", (), None, False),
    ("wang", "Wang Fang", "escort", "steelmaking", ("assembly", "smelting"), "0B00000001", True),
    ("guard", "Sun Tao", "guard", None, (), None, False),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["seed"])


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from zones.db import session_factory
    from zones.schema import Employee
    from zones.services.people import create_user

    config = load_or_exit(args.config)
    engine = open_database(config)
    try:
        with session_factory(engine)() as session:
            if session.scalar(select(func.count()).select_from(Employee)):
                print("demo staff: the database already has employees; nothing seeded")
                return 0
            zones = config.zone_map()
            known = set(zones)
            for login, name, role, department, escort_zones, card, dispatch in STAFF:
                create_user(
                    session,
                    name,
                    role,
                    login=login,
                    department=department,
                    escort_zones=[z for z in escort_zones if z in known],
                    card=card,
                    password=DEMO_PASSWORD,
                    dispatch_room=dispatch,
                    phone="13800138000",
                    zones=zones,
                    min_password_length=config.web.min_password_length,
                    token_days=config.web.token_days,
                )
            session.commit()
    finally:
        engine.dispose()
    print(f"demo staff created (password for all: {DEMO_PASSWORD}):")
    for login, name, role, department, escort_zones, card, _ in STAFF:
        extra = f", card {card}, escorts in {', '.join(escort_zones)}" if card else ""
        print(f"  {login:10} {name}, {role}{f' of {department}' if department else ''}{extra}")
    return 0
