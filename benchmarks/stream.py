"""How fast the wire clients consume a model stream.

A mock model server (tests/mock_model.py, real loopback socket, in its own process so it does
not compete with the client for the GIL) streams a 20,000-delta answer and a 200-tool-call turn
over each wire API. Measured:

- in-process: wall time and CPU time around ``stream_with_retries`` (one keep-alive client, as
  a session has), best of ``--repeat`` runs;
- whole process: a fresh ``python`` that imports codex, streams one turn and exits, timed by
  the parent (wall and user+system CPU of the child, start-up and imports included);
- SSE framing alone: the same 20,000-event body fed from memory in 64 KiB chunks through
  codex's ``SSEDecoder`` and through httpx2's own ``EventSource``, CPU per event.

Run: ``python benchmarks/stream.py`` (``--json`` for machine-readable output). Target: at least
50,000 text deltas per second consumed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "plugins" / "openai"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from codex.config.model import ModelProviderInfo  # noqa: E402
from codex.protocol import Message, OutputItemDone, OutputTextDelta, Prompt  # noqa: E402
from codex.wire import WireApi, stream_with_retries  # noqa: E402

TEXT_DELTAS = 20_000
TOOL_CALLS = 200


def make_api(wire: str) -> WireApi:
    """The wire client under test, exactly as the plugin registers it."""
    from codex_openai import codex_wire_apis

    return codex_wire_apis()[wire]


def enqueue(mock: Any, wire: str, scenario: str) -> None:
    """Script one turn of ``scenario`` on the mock server."""
    from tests.mock_model import Call, Text

    if scenario == "text":
        deltas = [f" w{i % 1000}" for i in range(TEXT_DELTAS)]
        part: list[Any] = [Text("".join(deltas), deltas=deltas)]
    else:
        part = [Call("shell", {"command": ["echo", str(i)], "workdir": "/tmp"}) for i in range(TOOL_CALLS)]
    if wire == "responses":
        mock.responses_turn(*part)
    else:
        mock.chat_turn(*part)


async def consume(api: WireApi, base_url: str, wire: str) -> dict[str, float]:
    """Stream one turn; return counts and the client thread's wall and CPU seconds."""
    provider = ModelProviderInfo(id="mock", name="Mock", base_url=base_url, wire_api=wire)
    prompt = Prompt(model="mock-model", instructions="", input=[Message("user", "go")], session_id="bench")
    deltas = items = events = 0
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    async for event in stream_with_retries(api, prompt, provider):
        events += 1
        if type(event) is OutputTextDelta:
            deltas += 1
        elif type(event) is OutputItemDone:
            items += 1
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    return {"events": events, "deltas": deltas, "items": items, "wall": wall, "cpu": cpu}


def in_process(base_url: str, wire: str, repeat: int) -> dict[str, float]:
    """Best of ``repeat`` runs in this process (one keep-alive client, as a session has)."""
    api = make_api(wire)
    runs = []

    async def run_all() -> None:
        for _ in range(repeat):
            runs.append(await consume(api, base_url, wire))
        await api.aclose()  # type: ignore[attr-defined]

    asyncio.run(run_all())
    return min(runs, key=lambda run: run["wall"])


def whole_process(base_url: str, wire: str) -> dict[str, float]:
    """One fresh interpreter streaming one turn: wall and CPU of the child, imports included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--client", base_url, "--wire", wire],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = json.loads(out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"events": child["events"], "deltas": child["deltas"], "items": child["items"], "wall": wall, "cpu": cpu,
            "stream_wall": child["wall"], "stream_cpu": child["cpu"]}


def framing(repeat: int) -> list[dict[str, Any]]:
    """CPU time per event of SSE framing alone: the same body, as an ``httpx2.Response`` fed from
    memory in 64 KiB chunks, through codex's ``SSEDecoder`` and through httpx2's ``EventSource``
    (the pipeline each would run inside ``post_sse``)."""
    import httpx2

    from codex.http import SSEDecoder
    from tests.mock_model import Text, responses_frames, sse_body

    deltas = [f" w{i % 1000}" for i in range(TEXT_DELTAS)]
    body = sse_body(responses_frames([Text("".join(deltas), deltas=deltas)])).body
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]

    def response() -> httpx2.Response:
        async def content() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content(), request=request)

    async def ours() -> int:
        decoder, count = SSEDecoder(), 0
        async for chunk in response().aiter_bytes():
            for _event in decoder.feed(chunk):
                count += 1
        return count

    async def theirs() -> int:
        count = 0
        async for _event in httpx2.EventSource(response()):
            count += 1
        return count

    results = []
    for name, parse in (("codex SSEDecoder", ours), ("httpx2 EventSource", theirs)):
        best, count = float("inf"), 0
        for _ in range(repeat):
            cpu0 = time.process_time()
            count = asyncio.run(parse())
            best = min(best, time.process_time() - cpu0)
        results.append({"parser": name, "events": count, "cpu": best})
    return results


def serve(wire: str, scenario: str, turns: int) -> None:
    """The server process: script ``turns`` turns, print the base URL, serve until stdin closes."""
    from tests.mock_model import MockModelServer

    with MockModelServer() as mock:
        for _ in range(turns):
            enqueue(mock, wire, scenario)
        print(mock.base_url, flush=True)
        sys.stdin.read()


def measure(wire: str, scenario: str, repeat: int) -> list[dict[str, Any]]:
    """Both modes for one case, against a fresh server process."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", f"{wire}:{scenario}:{repeat + 1}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        base_url = server.stdout.readline().strip()
        if not base_url:
            raise SystemExit("the mock server process did not start")
        inside = in_process(base_url, wire, repeat)
        whole = whole_process(base_url, wire)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(30)
    return [{"wire": wire, "scenario": scenario, "mode": "in-process", **inside},
            {"wire": wire, "scenario": scenario, "mode": "whole process", **whole}]


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s" if seconds > 0 else "         -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="in-process runs per case (best is reported)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--wire", default="responses", help=argparse.SUPPRESS)
    parser.add_argument("--serve", metavar="WIRE:SCENARIO:TURNS", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        wire, scenario, turns = args.serve.split(":")
        serve(wire, scenario, int(turns))
        return

    if args.client:
        result = asyncio.run(consume(make_api(args.wire), args.client, args.wire))
        print(json.dumps(result))
        return

    results: list[dict[str, Any]] = []
    for wire in ("responses", "chat"):
        for scenario in ("text", "calls"):
            results.extend(measure(wire, scenario, args.repeat))
    parsers = framing(args.repeat)
    if args.json:
        print(json.dumps({"streams": results, "framing": parsers}, indent=2))
        return
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; {TEXT_DELTAS:,} text deltas, "
          f"{TOOL_CALLS} tool calls per turn")
    print(f"{'wire':<10}{'turn':<7}{'mode':<15}{'events':>8}{'wall s':>9}{'cpu s':>8}"
          f"{'events/wall':>14}{'events/cpu':>14}{'deltas/wall':>14}")
    for r in results:
        print(f"{r['wire']:<10}{r['scenario']:<7}{r['mode']:<15}{r['events']:>8}{r['wall']:>9.3f}"
              f"{r['cpu']:>8.3f}{rate(r['events'], r['wall']):>14}{rate(r['events'], r['cpu']):>14}"
              f"{rate(r['deltas'], r['wall']) if r['deltas'] else '':>14}")
    print("whole process = interpreter start-up + imports + one turn; of that, the turn itself took:")
    for r in results:
        if r["mode"] == "whole process":
            print(f"  {r['wire']:<10}{r['scenario']:<7}wall {r['stream_wall']:.3f} s, cpu {r['stream_cpu']:.3f} s "
                  f"({rate(r['events'], r['stream_wall']).strip()} events)")
    print("SSE framing alone (Responses text body, 64 KiB chunks):")
    for p in parsers:
        print(f"  {p['parser']:<18}{p['events']:>7} events  {p['cpu'] * 1e6 / p['events']:.2f} us/event "
              f"({rate(p['events'], p['cpu']).strip()})")


if __name__ == "__main__":
    main()
