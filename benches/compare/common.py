"""Helpers shared by the comparison scripts beside this file (not run by CI).

Running and measuring child processes (wall time, peak RSS from os.wait4, the JSON report a
child prints, medians over repeats), reusing generated data files, finding acrm's example
binaries, number formatting for the tables, version and machine capture, and writing the
results as JSON.

Standard library only, as at the scripts' own module level: on Linux a child's ru_maxrss
starts from its parent's peak RSS at spawn, so the process that starts the measured children
must stay small (see run_measured). numpy, pandas and the Python packages compared against
are imported only in the scripts' worker processes or inside functions.

The scripts put their own folder first on sys.path and `from common import ...`.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def die(msg: str, code: int = 1) -> None:
    print(msg, file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------------------------------------
# child processes (this process stays small)


def self_cmd(script: str, *extra: str) -> list[str]:
    """The command that runs `script` (the caller's __file__) again with this interpreter."""
    return [sys.executable, str(Path(script).resolve()), *extra]


def maxrss_bytes(ru_maxrss: int) -> int:
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024  # Linux reports KiB


def run_measured(cmd: list[str]) -> dict:
    """Run cmd; wall time, exit code, output and the child's own peak RSS.

    On Linux a child's ru_maxrss starts from its parent's peak RSS at the time it was spawned
    (exec records the old address space's high-water mark), which is why this process imports
    nothing heavy until all measurements are done; `floor_bytes` records that starting point.
    """
    floor = maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    # files rather than pipes: no reader threads needed and no deadlock on large output
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped; keep Popen from waiting
        out.seek(0)
        err.seek(0)
        return {"returncode": proc.returncode, "wall_s": wall, "maxrss_bytes": maxrss_bytes(ru.ru_maxrss),
                "floor_bytes": floor, "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace")}


def json_line(text: str) -> dict | None:
    """The last line of `text` that parses as a JSON object; None when no line does."""
    for line in reversed(text.strip().splitlines()):
        if line.strip().startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def last_json(text: str, what: str) -> dict:
    """The JSON object a child printed on a line of its own (the last one); ValueError when none."""
    obj = json_line(text)
    if obj is None:
        raise ValueError(f"no JSON object in the output of {what}:\n{text}")
    return obj


def parse_json_stdout(text: str, what: str) -> dict:
    """The JSON object a child printed: all of stdout, or else the last line that parses as
    one (log lines around it are tolerated); ValueError when there is none."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    obj = json_line(text)
    if obj is None:
        raise ValueError(f"could not find a JSON object in the output of {what}:\n{text}")
    return obj


def mb(b) -> str:
    return "-" if b is None else f"{b / 2**20:.0f} MB"


def run_side(name: str, cmd: list[str], repeats: int, seconds, note=lambda r: "", *,
             parse=last_json, mb=mb, stderr_tail: int | None = None) -> dict:
    """Run cmd `repeats` times, each a fresh process measured by run_measured; dies on a failure.

    parse(stdout, name) reads a run's report, seconds(report) is its time that counts and
    note(report) ends its progress line (mb formats the peak RSS there); stderr_tail keeps
    only that many last characters of a failed run's stderr. Returns the runs (report,
    seconds, wall_s, maxrss_bytes, floor_bytes), the median, min and max of the seconds, the
    median wall time, the largest peak RSS, the last report and med(f), the median of f(run).
    """
    runs = []
    for i in range(repeats):
        m = run_measured(cmd)
        if m["returncode"] != 0:
            err = m["stderr"] if stderr_tail is None else m["stderr"][-stderr_tail:]
            die(f"{name} run {i + 1} failed ({m['returncode']}):\n{err}")
        try:
            rep = parse(m["stdout"], name)
        except ValueError as e:
            die(str(e))
        runs.append({"report": rep, "seconds": seconds(rep), "wall_s": m["wall_s"],
                     "maxrss_bytes": m["maxrss_bytes"], "floor_bytes": m["floor_bytes"]})
        print(f"  {name} run {i + 1}/{repeats}: {runs[-1]['seconds']:.3f} s (process {m['wall_s']:.2f} s, "
              f"peak RSS {mb(m['maxrss_bytes'])}){note(rep)}", flush=True)
    med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
    return {"runs": runs, "median_s": med(lambda r: r["seconds"]), "wall_median_s": med(lambda r: r["wall_s"]),
            "min_s": min(r["seconds"] for r in runs), "max_s": max(r["seconds"] for r in runs),
            "maxrss_bytes": max(r["maxrss_bytes"] for r in runs), "last": runs[-1]["report"], "med": med}


# --------------------------------------------------------------------------------------------
# data files and acrm's binaries


def write_sidecar(path: Path, meta: dict) -> None:
    """In a generator worker: write path's sidecar .json (what reuse_data reads) and print meta
    as the worker's JSON report."""
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta))


def reuse_data(path: Path, want: dict, size_key: str) -> dict | None:
    """The sidecar of a data file generated earlier with the settings `want`, or None.

    A generator writes `path` and beside it `path` with the suffix .json: its settings and the
    file's size under `size_key`. The file is reused when all of `want` and the size match.
    """
    side = path.with_suffix(".json")
    if path.is_file() and side.is_file():
        try:
            meta = json.loads(side.read_text())
            if all(meta.get(k) == v for k, v in want.items()) and meta.get(size_key) == path.stat().st_size:
                print(f"reusing {path}", flush=True)
                return meta
        except (OSError, ValueError):
            pass
    return None


def examples_dir() -> Path:
    """$CARGO_TARGET_DIR (relative: to the repository root) or <repo>/target, /release/examples."""
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    return target / "release" / "examples"


def find_example(bin_dir: Path, name: str, alternative: str = "") -> Path:
    """The executable `name` in bin_dir; dies, saying how to build it, when it is not there."""
    for cand in (bin_dir / name, bin_dir / f"{name}.exe"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    die(
        f"acrm example binary '{name}' not found in {bin_dir}.\n"
        f"Build it first, from the repository root ({REPO}):\n"
        f"    cargo build --release --examples\n"
        f"or point --acrm-bin at the directory that holds it{alternative}."
    )
    raise AssertionError  # unreachable


# --------------------------------------------------------------------------------------------
# report


def rss(b, floor, mb=mb) -> str:
    """A peak RSS; at or below the floor inherited from this process it is only a bound."""
    if b is None:
        return "-"
    return f"<= {mb(floor)}" if b <= floor else mb(b)


def fmt(v, f: str) -> str:
    return "-" if v is None else format(v, f)


def fmt_s(v) -> str:
    return "-" if v is None else f"{v:.3f} s"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def versions(*modules: str) -> dict:
    """{module: its __version__} (imports them: for the worker processes, or after measuring)."""
    return {name: importlib.import_module(name).__version__ for name in modules}


def conditions(threads_env: dict, load_before, load_after) -> dict:
    """Cores, thread variables, load average around the runs, Python and platform, for the JSON."""
    return {"threads": {"cores": os.cpu_count(), "env": threads_env},
            "load_average": {"before": load_before, "after": load_after},
            "python": platform.python_version(), "machine": platform.platform()}


def json_default(o):
    """json.dumps' fallback: numpy scalars as Python numbers, anything else (paths, ...) as text."""
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def write_json(path: Path, obj, default=None) -> None:
    """Write obj as indented JSON to path (creating its folder) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=default) + "\n")
    print(f"wrote {path}")
