"""The probe's figures as markdown, and their section in ``benchmarks/PROBE.md``.

The section sits between two marker comments, so ``make probe`` replaces its own figures
and leaves anything else in the file alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["END", "START", "render", "write_section"]

START = "<!-- make probe: start (this section is written by `make probe`; edits are lost) -->"
END = "<!-- make probe: end -->"
_TITLE = "# Probe of the running service"


def _statuses(statuses: dict[str, Any]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())) or "-"


def _table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _fuzz(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["### 1. schemathesis on the OpenAPI", ""]
    lines += [
        "`served`: the app's own `/openapi.json`, every operation. `fdsn`: the FDSN query operations "
        "with the FDSN parameters and POST bodies added by the probe (the app declares those routes "
        "without parameters, so the served schema only sends them the bare path). Phases examples, "
        "coverage, fuzzing; check `not_a_server_error`; every request counted from schemathesis's HAR.",
        "",
    ]
    lines += _table(
        [
            "run",
            "max examples / operation",
            "cases generated",
            "requests sent",
            "5xx",
            "check failures",
            "time",
        ],
        (
            [
                r["name"],
                r["max_examples"],
                r["generated"],
                r["requests"],
                f"**{r['server_errors']}**",
                r["check_failures"],
                f"{r['elapsed_s']:.0f} s" + (" (killed)" if r["timed_out"] else ""),
            ]
            for r in runs
        ),
    )
    lines += ["", "Answers by operation (both runs):", ""]
    rows = []
    for r in runs:
        for op, statuses in r["by_operation"].items():
            fives = sum(n for code, n in statuses.items() if int(code) >= 500)
            rows.append([r["name"], f"`{op}`", sum(statuses.values()), _statuses(statuses), fives])
    lines += _table(["run", "operation", "requests", "statuses", "5xx"], rows)
    notes = [f"- {r['name']}: {note}" for r in runs for note in r["notes"]]
    notes += [f"- {r['name']} 5xx: `{example}`" for r in runs for example in r["examples_5xx"]]
    if notes:
        lines += ["", "Notes:", "", *notes]
    return lines


def _load(rounds: list[dict[str, Any]]) -> list[str]:
    lines = ["### 2-3. Load at 50 and 200 clients, then RSS over rounds", ""]
    lines += [
        "Mixed requests (40 % `/timewindows` with 1-4 windows of the sample data, 10 % no-data windows, "
        "20 % invalid requests, 20 % FDSN dataselect GET/POST, 10 % FDSN station), one connection per "
        "client; latencies client-side. RSS is the server's `VmRSS` (before, highest sampled every "
        "0.5 s, 1 s after the round); VmHWM is its peak since it started (the load has a server of "
        "its own, started after schemathesis). `unexpected`: a status other than the one its kind of request "
        "must get (a valid window answered `error`, an invalid request not answered 4xx, ...). CPU: seconds "
        "used in the round by the server, by moto (the S3 stand-in, which real S3 would not cost this "
        "machine) and by the load generator; the rest of the 2 cores went to other sessions.",
        "",
    ]
    header = [
        "round",
        "clients",
        "s",
        "requests",
        "req/s",
        "statuses",
        "5xx",
        "unexpected",
        "transport errors",
        "p50",
        "p95",
        "max",
        "RSS before",
        "RSS max",
        "RSS after",
        "VmHWM",
        "CPU s: server / moto / probe",
    ]
    rows = []
    for r in rounds:
        rows.append(
            [
                r["label"],
                r["clients"],
                f"{r['elapsed_s']:.0f}",
                r["requests"],
                f"{r['requests'] / r['elapsed_s']:.0f}" if r["elapsed_s"] else "-",
                _statuses(r["statuses"]),
                f"**{r['server_errors']}**",
                r["unexpected"],
                r["transport_errors"],
                f"{r['p50_ms']:,} ms",
                f"{r['p95_ms']:,} ms",
                f"{r['max_ms']:,} ms",
                f"{r['rss_before_mb']:.0f} MB",
                f"{r['rss_max_sampled_mb']:.0f} MB",
                f"{r['rss_after_mb']:.0f} MB",
                f"{r['hwm_after_mb']:.0f} MB",
                " / ".join(f"{v:.0f}" for v in r.get("cpu_s", {}).values()) or "-",
            ]
        )
    lines += _table(header, rows)
    same = [r for r in rounds if r["label"].startswith("rss")]
    if len(same) >= 2:
        first, last = same[0]["rss_after_mb"], same[-1]["rss_after_mb"]
        after = ", ".join(f"{r['rss_after_mb']:.0f}" for r in same)
        lines += [
            "",
            f"RSS after each of the {len(same)} rounds of the same load: {after} MB "
            f"({last - first:+.1f} MB from the first to the last).",
        ]
    examples = [f"- {r['label']}: `{e}`" for r in rounds for e in r["examples"]]
    if examples:
        lines += ["", "Unexpected answers (first few):", "", *examples]
    return lines


def _hang(h: dict[str, Any]) -> list[str]:
    lines = ["### 4. Pathological FDSN pattern", ""]
    lines += [
        f"`GET /fdsnws/dataselect/1/query?net=CI&sta=<300 *>XYZ&loc=*&cha=*&...` — {h['pattern']}; "
        "meanwhile `GET /health` every 0.25 s and a one-window `POST /timewindows` every 1 s. "
        "Then the server is stopped.",
        "",
    ]
    rows = []
    for name, key in (("pathological pattern", "pathological"), ("/health", "health"), ("window", "window")):
        p = h[key]
        rows.append(
            [
                name,
                p["sent"],
                _statuses(p["statuses"]),
                f"{p['timeouts']} (at {p['timeout_s']:.0f} s)",
                f"{p['p50_ms']:,} ms" if p["timeouts"] < p["sent"] else "-",
                f"{p['max_ms']:,} ms" if p["timeouts"] < p["sent"] else "-",
            ]
        )
    lines += _table(["request", "sent", "statuses", "gave up", "p50 of answered", "max of answered"], rows)
    lines += [
        "",
        f"- timed for {h['elapsed_s']:.0f} s; server CPU in that time {h['server_cpu_s']:.0f} s; "
        f"RSS {h['rss_mb']:.0f} MB",
        f"- `/health` after the part: {h['health_after']}",
        f"- stopping the server: {h['stop']}",
    ]
    if h["example"]:
        lines.append(f"- first answer to the pattern: `{h['example']}`")
    return lines


def render(results: dict[str, Any]) -> str:
    """The section (between the markers) for ``results`` as `benchmarks.probe.run` builds them."""
    lines = [START, f"## `make probe` — {results['date']}", ""]
    lines += [
        f"- command: `{results['command']}`, {results['elapsed_s']:.0f} s in all",
        f"- machine: {results['cores']} cores, shared with other sessions "
        f"(load average {results['loadavg']} at the start)",
        *results["machine"],
        f"- service: `{results['service']}`, on 127.0.0.1 only",
        "",
    ]
    if "fuzz" in results:
        lines += [*_fuzz(results["fuzz"]), ""]
    if "rounds" in results:
        lines += [*_load(results["rounds"]), ""]
    if "hang" in results:
        lines += [*_hang(results["hang"]), ""]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` in place of the previous one (or at the end)."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"{_TITLE}\n\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
