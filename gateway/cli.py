"""`muni`: run Muni, mint tokens, inspect parked messages, fork a city, run benchmarks.

    muni up [--demo] [--port 8000] [--host 127.0.0.1] [--data-dir DIR]
    muni serve gateway [--port 8000] [--host 127.0.0.1]
    muni worker SERVICE [SERVICE ...]
    muni keygen
    muni token --member ID [--roles member,driver] [--ttl-minutes 60]
    muni grant --member ID --role board --reason WHY [--operator NAME]
    muni parked SERVICE
    muni status
    muni fork CITY [--name NAME] [--currency EUR] [--timezone Europe/Brussels]
    muni protocol export|check
    muni bench matching [--quick]

Settings come from the environment (see kernel/config.py); `up` forces the embedded shape.
Keys (kernel/keys.py): `up`, `token` and `grant` use the data folder's (made on first use);
`serve` and `worker` refuse to start unless MUNI_JWT_SECRET and MUNI_IDENTIFIER_KEY are set.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path

from kernel import logs
from kernel.auth import ROLES, Identity, InvalidToken, mint
from kernel.config import Settings, SettingsError
from kernel.ids import InvalidId, member_id
from kernel.keys import keygen_lines, require_configured_keys, with_keys
from kernel.time import SystemClock

log = logging.getLogger("muni")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="muni", description="Muni: the co-op federation backend.")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run everything in one process (SQLite, in-process bus)")
    up.add_argument("--demo", action="store_true", help="seed demo members and drivers")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--data-dir", type=Path, default=None, help="default ./data")

    serve = sub.add_parser("serve", help="serve the GraphQL gateway only (scale-out)")
    serve.add_argument("what", choices=["gateway"])
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")

    worker = sub.add_parser("worker", help="run services' relays and consumers (scale-out)")
    worker.add_argument("services", nargs="+")

    sub.add_parser("keygen", help="print a fresh pair of keys for scale-out (as env lines)")

    token = sub.add_parser("token", help="mint an access token for local use")
    token.add_argument("--member", required=True, help="<city>:<uuid>")
    token.add_argument("--roles", default="member", help=f"comma-separated of {sorted(ROLES)}")
    token.add_argument("--ttl-minutes", type=int, default=60)

    grant = sub.add_parser(
        "grant", help="grant a role as this city's operator (the founding board, say)"
    )
    grant.add_argument("--member", required=True, help="<city>:<uuid>")
    grant.add_argument("--role", required=True, choices=sorted(ROLES - {"member"}))
    grant.add_argument("--reason", required=True, help="why: recorded with the grant")
    grant.add_argument("--operator", default=None, help="who you are (default: $USER)")

    parked = sub.add_parser("parked", help="list the messages a service's consumer parked")
    parked.add_argument("service")

    rebuild = sub.add_parser(
        "rebuild", help="rebuild a service's read models from its store, while it keeps running"
    )
    rebuild.add_argument("service")
    rebuild.add_argument("read_model", nargs="?", default=None, help="default: all of them")

    sub.add_parser("status", help="each relay's and consumer's position and lag")

    fork = sub.add_parser("fork", help="write cities/<city>.toml from the demo city")
    fork.add_argument("city")
    fork.add_argument("--name", default=None)
    fork.add_argument("--currency", default=None)
    fork.add_argument("--timezone", default=None)
    fork.add_argument("--cities-dir", type=Path, default=None, help="default: cities/")

    protocol = sub.add_parser("protocol", help="export or check the published contract")
    protocol.add_argument("action", choices=["export", "check"])

    bench = sub.add_parser(
        "bench", help="run every matching benchmark at short limits (bench/README.md: full runs)"
    )
    bench.add_argument("what", choices=["matching"])
    bench.add_argument(
        "--quick", action="store_true", help="short limits (the only mode of this summary run)"
    )
    bench.add_argument("--time-limit", type=float, default=None, help="seconds per instance")
    bench.add_argument("--only", nargs="+", default=None, help="benchmark names to run")
    bench.add_argument("--out", type=Path, default=None, help="default: bench/results/summary.md")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"muni: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings)
    handlers = {
        "up": _up,
        "serve": _serve,
        "worker": _worker,
        "keygen": _keygen,
        "token": _token,
        "grant": _grant,
        "parked": _parked,
        "rebuild": _rebuild,
        "status": _status,
        "fork": _fork,
        "bench": _bench,
        "protocol": _protocol,
    }
    return handlers[args.command](args, settings)


def _up(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gateway.app import create_app

    data_dir = args.data_dir or settings.data_dir
    # Dev mode: GraphiQL, introspection and suggestions on (unless MUNI_GRAPHIQL=0 etc.).
    settings = settings.with_(
        data_dir=data_dir,
        persistence="sqlite",
        bus="embedded",
        gateway=settings.gateway.with_(dev=True),
    )

    def ready(runtime: object) -> None:
        if args.demo:
            from gateway.demo import seed

            people = seed(runtime, data_dir)  # type: ignore[arg-type]
            print(
                "\nDemo people: signIn(login, password) with these, or paste the token (valid "
                "for minutes) as 'Authorization: Bearer <token>':"
            )
            for name, info in people.items():
                print(
                    f"  {name:32} {info['id']}  roles={info['roles']}\n"
                    f"    login {info['email']}  password {info['password']}\n"
                    f"    {info['token']}"
                )
        print(
            f"\nMuni is up: GraphiQL at http://{args.host}:{args.port}/graphql  (data: {data_dir})"
        )

    uvicorn.run(
        create_app(settings, on_ready=ready), host=args.host, port=args.port, log_config=None
    )
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gateway.app import create_app

    if not _keys_configured(settings):
        return 2

    uvicorn.run(create_app(settings, workers=()), host=args.host, port=args.port, log_config=None)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.runtime import Runtime
    from gateway.services import SERVICES

    unknown = set(args.services) - set(SERVICES)
    if unknown:
        print(
            f"muni: unknown services {sorted(unknown)}; known: {sorted(SERVICES)}", file=sys.stderr
        )
        return 2
    if not _keys_configured(settings):
        return 2
    runtime = Runtime.build(settings, workers=args.services, apps=args.services)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    print(f"muni worker ready: {' '.join(args.services)}", flush=True)
    stop.wait()
    runtime.stop()
    return 0


def _keys_configured(settings: Settings) -> bool:
    """Scale-out: every process must share the configured keys; say how to make them."""
    try:
        require_configured_keys(settings)
    except SettingsError as exc:
        print(f"muni: {exc}", file=sys.stderr)
        return False
    return True


def _keygen(args: argparse.Namespace, settings: Settings) -> int:
    print("# Muni keys: give every gateway and worker of this city the same two.")
    print("# MUNI_IDENTIFIER_KEY must never change once members have signed up.")
    for line in keygen_lines():
        print(line)
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    try:
        settings = with_keys(settings)
        who = member_id(args.member)
        roles = frozenset(r.strip() for r in args.roles.split(",") if r.strip())
        token = mint(
            Identity(who, who.split(":")[0], roles),
            settings.signing_key,
            now=SystemClock().now(),
            ttl=timedelta(minutes=args.ttl_minutes),
        )
    except (InvalidId, InvalidToken, SettingsError) as exc:
        print(f"muni token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _grant(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from gateway.runtime import Runtime
    from services.members.application import Members
    from services.members.domain import MembersError

    try:
        settings = with_keys(settings)
    except SettingsError as exc:
        print(f"muni grant: {exc}", file=sys.stderr)
        return 2
    runtime = Runtime.build(settings, apps=["members"])
    members = runtime.apps["members"]
    assert isinstance(members, Members)  # noqa: S101 (SERVICES says so)
    try:
        account = members.roles.grant_as_operator(
            operator=args.operator or getpass.getuser(),
            member=args.member,
            role=args.role,
            reason=args.reason,
        )
    except MembersError as exc:
        print(f"muni grant: {exc}", file=sys.stderr)
        return 2
    finally:
        members.close()
    print(f"{account.member_id} holds {sorted(account.roles)}")
    return 0


def _parked(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.runtime import Runtime
    from gateway.services import SERVICES

    if args.service not in SERVICES:
        print(f"muni: unknown service {args.service!r}", file=sys.stderr)
        return 2
    runtime = Runtime.build(settings, apps=[args.service])
    for message in runtime.apps[args.service].parked_messages():
        print(f"{message.topic}#{message.partition}@{message.offset}  {message.reason}")
    return 0


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.rebuilding import rebuild_service

    return rebuild_service(settings, args.service, args.read_model)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.status import render, stored_readings

    readings = stored_readings(settings)
    print(f"{settings.city}: {settings.persistence} stores, {settings.bus} bus")
    print(render(readings))
    return 1 if any(r.error for r in readings) and settings.bus == "kafka" else 0


def _fork(args: argparse.Namespace, settings: Settings) -> int:
    import tomllib

    from kernel.cities import CITIES_DIR, CityConfig
    from kernel.ids import city_id

    try:
        new_id = city_id(args.city)
    except InvalidId as exc:
        print(f"muni fork: {exc}", file=sys.stderr)
        return 2
    cities_dir = args.cities_dir or CITIES_DIR
    target = cities_dir / f"{new_id}.toml"
    if target.exists():
        print(f"muni fork: {target} already exists", file=sys.stderr)
        return 2
    template = (CITIES_DIR / "demo.toml").read_text()
    config = tomllib.loads(template)
    config["id"] = new_id
    config["name"] = args.name or f"{new_id.title()} Co-op"
    if args.currency:
        config["currency"] = args.currency
    if args.timezone:
        config["timezone"] = args.timezone
    CityConfig.model_validate(config)  # refuse to write a config that would not load
    text = template
    for key in ("id", "name", "currency", "timezone"):
        old = tomllib.loads(template)[key]
        text = text.replace(f'{key} = "{old}"', f'{key} = "{config[key]}"', 1)
    text = text.replace("# The demo city:", f"# {config['name']}, forked from the demo city:", 1)
    target.write_text(text)
    print(f"wrote {target}; run it with MUNI_CITY={new_id}")
    return 0


def _protocol(args: argparse.Namespace, settings: Settings) -> int:
    from gateway import protocol

    if args.action == "export":
        for path in protocol.export():
            print(f"wrote {path}")
        return 0
    problems = protocol.check()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from bench.run_all import main as run_all

    argv: list[str] = []
    if args.time_limit is not None:
        argv += ["--time-limit", str(args.time_limit)]
    if args.only:
        argv += ["--only", *args.only]
    if args.out is not None:
        argv += ["--out", str(args.out)]
    return int(run_all(argv))


if __name__ == "__main__":
    raise SystemExit(main())
