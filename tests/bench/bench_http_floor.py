"""What a webhook costs before the gateway does anything of its own (not a test).

    uv run python tests/bench/bench_http_floor.py [--seconds 20] [--rate 400] [--senders 32]

Issue 15 asks for <= 0.5 ms of gateway CPU per accepted webhook. This measures the floor under
that figure on this machine, with bench_webhook's load (open loop, ``--rate`` requests a second
from ``--senders`` concurrent senders, the same payloads): a server process on the stack the
gateway runs on (aiohttp on uvloop, as ``relay serve`` starts it), in three steps:

- ``bare``: reads the body and answers 202 with a small JSON body;
- ``parsed``: also checks the payload's signature (the gateway's ``signature_matches``) and
  parses its JSON;
- ``published``: also publishes the event to JetStream (an embedded NATS, the gateway's
  client library) and waits for the acknowledgement before answering.

The gateway does all three and more (the receipt lookup and record in Postgres, the rate
limit's compare-and-set, pydantic models, middlewares, logs and metrics). Prints each step's
CPU per request, read from the server's ``/proc/<pid>/stat`` over the load.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from webhook_catalogue import order_items
from webhook_probes import cpu_seconds

from relay_cli.stack import free_port, wait_for_http_ok
from relay_cli.stack.nats import NatsServer
from relay_gateway.domain.signatures import sign, signature_matches

STEPS = ("bare", "parsed", "published")
SECRET = "floor-secret"
SUBJECT = "floor.shipped"


def _payload(index: int) -> bytes:
    order = {"order_id": f"floor-{index}", "channel": "amazon", "items": order_items(index)}
    body = {"event_id": f"floor-{index}", "event_type": "order.shipped", "order": order}
    return json.dumps(body).encode()


async def serve(step: str, port: int, nats_url: str) -> None:
    """The floor server: one step of the gateway's work per request."""
    from aiohttp import web

    js = None
    if step == "published":
        import nats

        client = await nats.connect(nats_url)
        js = client.jetstream()
        await js.add_stream(name="FLOOR", subjects=[SUBJECT])

    async def webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        if step != "bare":
            given = request.headers.get("X-ShipStation-Signature")
            if not signature_matches(given, raw, [SECRET]):
                return web.json_response({"error": "signature"}, status=401)
            event_id = json.loads(raw)["event_id"]
            if js is not None:
                await js.publish(SUBJECT, raw, headers={"Nats-Msg-Id": event_id})
        return web.json_response({"status": "accepted"}, status=202)

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"ready": True})

    app = web.Application()
    app.router.add_post("/hook", webhook)
    app.router.add_get("/ready", ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def load(url: str, seconds: int, rate: int, senders: int) -> tuple[int, float]:
    """Open-loop load: (answers 202, wall seconds)."""
    total, interval = rate * seconds, 1.0 / rate
    indices = itertools.count()
    accepted = 0
    start = time.perf_counter() + 0.2
    async with aiohttp.ClientSession() as session:

        async def sender() -> None:
            nonlocal accepted
            while (index := next(indices)) < total:
                due = start + index * interval
                if (delay := due - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                body = _payload(index)
                headers = {
                    "Content-Type": "application/json",
                    "X-ShipStation-Signature": sign(SECRET, body),
                }
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    accepted += response.status == 202

        await asyncio.gather(*(sender() for _ in range(senders)))
    return accepted, time.perf_counter() - start


def measure(step: str, args: argparse.Namespace, nats_url: str) -> None:
    port = free_port()
    argv = [sys.executable, __file__, "--serve", step, "--port", str(port), "--nats", nats_url]
    server = subprocess.Popen(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_for_http_ok(f"http://127.0.0.1:{port}/ready", timeout=30.0)
        before = cpu_seconds(server.pid)
        url = f"http://127.0.0.1:{port}/hook"
        accepted, wall = asyncio.run(load(url, args.seconds, args.rate, args.senders))
        used = cpu_seconds(server.pid) - before
        print(
            f"{step:10} {accepted} of {args.rate * args.seconds} answered 202 in {wall:.1f} s; "
            f"server CPU {used:.2f} s ({used / wall:.2f} cores): "
            f"{1000 * used / max(accepted, 1):.3f} ms per request",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=400)
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--serve", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--nats", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvloop

        uvloop.run(serve(args.serve, args.port, args.nats))
        return 0
    with tempfile.TemporaryDirectory(prefix="relay-floor-") as folder:
        nats_server = NatsServer(Path(folder) / "nats", Path(folder) / "nats.log")
        nats_server.start(timeout=30.0)
        try:
            for step in STEPS:
                measure(step, args, nats_server.url)
        finally:
            nats_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
