"""CLI: `python -m tests.sandbox --port 8765 --contacts 20000 --seed 1 [--domain D] ...`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

from tests.sandbox import Limits, Sandbox, Scale


def main(argv: list[str] | None = None) -> int:
    """Serve a sandbox until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = random)")
    parser.add_argument("--contacts", type=int, default=Scale().contacts, help="seeded contacts")
    parser.add_argument("--seed", type=int, default=1, help="data seed")
    parser.add_argument("--api-key", default="sandbox-api-key", help="accepted API key")
    parser.add_argument("--domain", default=None, help="MAX mode: required X-Domain value")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument("--async-delay", type=float, default=0.0, help="seconds before writes show")
    parser.add_argument("--frame-calls", type=int, default=Limits().frame_calls)
    parser.add_argument("--per-second", type=int, default=Limits().per_second)
    parser.add_argument("--sms", action="store_true", help="enable the SMS add-on endpoints")
    parser.add_argument("--ready-file", type=Path, default=None, help="write the URL here when up")
    args = parser.parse_args(argv)
    sandbox = Sandbox(
        scale=replace(Scale(), contacts=args.contacts),
        seed=args.seed,
        api_key=args.api_key,
        domain=args.domain,
        limits=Limits(frame_calls=args.frame_calls, per_second=args.per_second),
        latency=args.latency_ms / 1000.0,
        async_delay=args.async_delay,
        sms_enabled=args.sms,
        port=args.port,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with sandbox:
        sys.stdout.write(f"url: {sandbox.url}\napi_key: {sandbox.api_key}\n")
        if args.domain:
            sys.stdout.write(f"x_domain: {args.domain}\n")
        sys.stdout.flush()
        if args.ready_file is not None:
            args.ready_file.write_text(sandbox.url + "\n")
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
