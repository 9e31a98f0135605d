"""The harness's report: the machine, Markdown tables between the README's markers, a plot."""
import os
import platform
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

BEGIN = "<!-- bench:begin (written by the harness: make bench; edits here are overwritten) -->"
END = "<!-- bench:end -->"
BEGIN_PATTERN = re.compile(r"<!-- bench:begin\b[^>]*-->")


def users_label(users):
    for unit, suffix in ((1_000_000, "M"), (1000, "k")):
        if users >= unit and users % unit == 0:
            return f"{users // unit}{suffix}"
    return f"{users:,}"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def tool_version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def wrk_version():
    if not shutil.which("wrk"):
        return None
    output = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    found = re.search(r"wrk (\S+)", output.stdout + output.stderr)
    return found.group(1) if found else "unknown"


def describe_machine(database_version, load_before):
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "database": database_version,
        "gunicorn": tool_version("gunicorn"),
        "wrk": wrk_version(),
        "load_before": list(load_before),
        "load_after": list(os.getloadavg()),
    }


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def ms(value):
    return f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def load(values):
    return " / ".join(f"{value:.2f}" for value in values)


def render(results, plot_name=None):
    machine, steps = results["machine"], results["steps"]
    first, last = steps[0], steps[-1]
    out = [BEGIN, "", f"## Results of `{results['command']}`", ""]
    out.append(
        f"Run on {machine['date']}: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['kernel']}, Python {machine['python']}, {machine['database']}"
        + (f", gunicorn {machine['gunicorn']}" if machine["gunicorn"] else "")
        + (f", wrk {machine['wrk']}" if machine["wrk"] else "")
        + f". Load average (1 / 5 / 15 min) {load(machine['load_before'])} at the start, "
        f"{load(machine['load_after'])} at the end. Size `{results['size']}`, seed "
        f"{results['seed']}; the run took {results['elapsed_s'] / 60:.1f} minutes.\n")
    out.append("### Dataset\n")
    out.append(table(["users", "seeded in (s: the step's rows, then VACUUM ANALYZE)",
                      "load average (1 min) when measured"],
                     [[f"{item['users']:,}", f"{item['seconds']:.1f}", f"{item['load']:.2f}"]
                      for item in results["seeding"]]))
    out += render_load(results, last)
    out.append(f"### Lists at {' / '.join(users_label(step) for step in steps)} users\n")
    out.append(
        "In-process (webtest: the app's own cost, no network), median of "
        f"{results['size_params']['list_requests']} rounds over every list after a first "
        "request (its time in *first*: it builds the per-process page boundaries), pages "
        "of 10; the middle page is the one halfway through the list at each size. SQL: "
        "statements of one request.\n")
    header = ["list", "page", f"rows at {users_label(last)}"]
    header += [f"{users_label(step)} ms" for step in steps]
    header += [f"{users_label(last)} ÷ {users_label(first)}", f"{users_label(last)} first ms",
               "SQL " + " → ".join(users_label(step) for step in steps)]
    rows = []
    for name, page in list_keys(results["lists"]):
        by_step = {item["users"]: item for item in results["lists"]
                   if (item["name"], item["page"]) == (name, page)}
        if first not in by_step or last not in by_step:
            continue
        end = by_step[last]
        rows.append([f"`{name}`", page if page == "page 1" else f"middle ({end['page_number']:,})",
                     f"{end['rows']:,}"]
                    + [ms(by_step[step]["median_ms"]) if step in by_step else "–"
                       for step in steps]
                    + [f"{end['median_ms'] / by_step[first]['median_ms']:.2f}",
                       ms(end["first_ms"]),
                       " → ".join(str(by_step[step]["queries"]) for step in steps
                                  if step in by_step)])
    out.append(table(header, rows))
    if results["writes"]:
        out.append(f"### Writes at {users_label(first)} and {users_label(last)} users\n")
        out.append("In-process, median of "
                   f"{results['size_params']['write_requests']} requests after a first one "
                   "(registration: new usernames; login: an email nobody has), with the "
                   "product's password hashing (each answer costs one argon2 hash).\n")
        rows = []
        for name in dict.fromkeys(item["name"] for item in results["writes"]):
            at = {item["users"]: item for item in results["writes"] if item["name"] == name}
            rows.append([f"`{name}`", ms(at[first]["median_ms"]), ms(at[last]["median_ms"]),
                         f"{at[last]['median_ms'] / at[first]['median_ms']:.2f}",
                         f"{at[first]['queries']} → {at[last]['queries']}"])
        out.append(table(["request", f"{users_label(first)} ms", f"{users_label(last)} ms",
                          f"{users_label(last)} ÷ {users_label(first)}",
                          f"SQL {users_label(first)} → {users_label(last)}"], rows))
    if plot_name:
        out.append(f"![Latency of the lists and writes by number of users]({plot_name})\n")
    out += render_startup(results)
    out.append(END)
    return "\n".join(out) + "\n"


def list_keys(items):
    return list(dict.fromkeys((item["name"], item["page"]) for item in items))


def render_load(results, last):
    out = [f"### Hot endpoints under load ({users_label(last)} users)\n"]
    if not results.get("load"):
        out.append(f"Not measured: {results.get('load_skipped')}.\n")
        out.append("SQL statements per request (in-process):\n")
        out.append(table(["endpoint", "SQL / request"],
                         [[f"`{name}`", count] for name, count in results["hot_queries"].items()]))
        return out
    out.append(
        "gunicorn (`--preload`, sync workers) serves the app on 127.0.0.1; wrk, in its own "
        f"process, sends each endpoint's request for {results['wrk_run']} after a warm-up "
        f"({results['size_params']['warmup_requests']} requests per worker), one "
        "connection per worker (one thread). Latencies in ms; *× bare* and *÷ bare* compare "
        "with the bare JSON view of the same app in the same run (p50 × bare: how many times "
        "slower; req/s ÷ bare: the share of its throughput). SQL: statements per request, "
        "counted in-process. Errors: wrk's count of failed or non-2xx answers.\n")
    for server in results["load"]:
        workers = server["workers"]
        runs = server["runs"]
        bare = runs[results["bare"]]
        out.append(f"#### {workers} worker{'s' if workers > 1 else ''}\n")
        rows = []
        for name, run in runs.items():
            rows.append([f"`{name}`", results["hot_queries"].get(name, "–"),
                         ms(run["p50_us"] / 1000), ms(run["p95_us"] / 1000),
                         ms(run["p99_us"] / 1000), f"{run['throughput']:,.0f}",
                         f"{run['p50_us'] / bare['p50_us']:.1f}",
                         f"{run['throughput'] / bare['throughput']:.2f}", run["error_count"]])
        out.append(table(["endpoint", "SQL", "p50", "p95", "p99", "req/s", "p50 × bare",
                          "req/s ÷ bare", "errors"], rows))
    if len(results["load"]) > 1:
        one, two = results["load"][0], results["load"][-1]
        out.append(f"#### {one['workers']} vs {two['workers']} workers (req/s)\n")
        rows = [[f"`{name}`", f"{run['throughput']:,.0f}",
                 f"{two['runs'][name]['throughput']:,.0f}",
                 f"{two['runs'][name]['throughput'] / run['throughput']:.2f}"]
                for name, run in one["runs"].items()]
        out.append(table(["endpoint", f"{one['workers']} worker(s)",
                          f"{two['workers']} workers", "ratio"], rows))
    out.append("#### Worker memory and start\n")
    params = results["size_params"]
    out.append("Resident memory (VmRSS) of each worker process, in MiB, after the warm-up "
               f"and after the requests served: with {results['load'][-1]['workers']} "
               "workers, a soak sends the hot endpoints in turn, each getting about the same "
               f"serving time, until the server has answered {params['soak_requests']:,} "
               f"requests or {params['soak_seconds']} s have passed. Start: gunicorn "
               "launched to the first answer of `/heartbeat` (the app built once, in the "
               "master).\n")
    rows = []
    for server in results["load"]:
        rows.append([server["workers"], f"{server['cold_start_s']:.2f} s",
                     " / ".join(f"{size:.1f}" for size in server["rss_warm_mib"]),
                     f"{server['served']:,}",
                     " / ".join(f"{size:.1f}" for size in server["rss_end_mib"]),
                     "yes" if server["errors"] else "no"])
    out.append(table(["workers", "start", "RSS after warm-up", "requests served",
                      "RSS after them", "tracebacks in the log"], rows))
    return out


def render_startup(results):
    figures = results.get("startup")
    if not figures:
        return []
    return ["### Cold start (`bench/startup.py`)\n",
            f"A fresh interpreter building the app from development.ini (scratch SQLite), "
            f"its bytecode cached as an installed server's is, then answering `GET "
            f"/heartbeat` through the WSGI call a server makes; median of "
            f"{figures['runs']} processes.\n",
            table(["measure", "value"], [
                ["RSS after start (app built)", f"{figures['rss_built_mib']:.1f} MiB"],
                ["RSS after the first answer (GET /heartbeat)",
                 f"{figures['rss_answered_mib']:.1f} MiB"],
                ["app build (imports + configuration)", f"{figures['build_s']:.2f} s"],
                ["process launch to first answer", f"{figures['first_answer_s']:.2f} s"],
                ["heavy modules loaded after the first answer",
                 ", ".join(figures["heavy_loaded"]) or "none"],
            ])]


def write_readme(results, readme, plot=None):
    path = Path(readme)
    plot_name = os.path.relpath(plot, path.parent) if plot else None
    section = render(results, plot_name)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    begin, end = BEGIN_PATTERN.search(text), text.find(END)
    if begin and end > begin.start():
        text = text[:begin.start()] + section.rstrip("\n") + text[end + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def plot(results, target):
    """bench/scaling.png: median ms of each list (page 1, middle page) and write by users.
    False when matplotlib (the bench extra) is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import FuncFormatter

    figure, axes = pyplot.subplots(1, 3, figsize=(16, 6.5), sharey=True)
    panels = (("page 1", "Lists, page 1"), ("middle", "Lists, middle page"))
    for axis, (page, title) in zip(axes, panels):
        for name, item_page in list_keys(results["lists"]):
            if item_page != page:
                continue
            points = [(item["users"], item["median_ms"]) for item in results["lists"]
                      if (item["name"], item["page"]) == (name, page)]
            axis.plot(*zip(*points), marker="o", label=name)
        axis.set_title(title)
    for name in dict.fromkeys(item["name"] for item in results["writes"]):
        points = [(item["users"], item["median_ms"]) for item in results["writes"]
                  if item["name"] == name]
        axes[2].plot(*zip(*points), marker="o", label=name)
    axes[2].set_title("Writes")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for axis in axes:
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("users")
        axis.set_xticks(results["steps"], [users_label(step) for step in results["steps"]])
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(plain)
        axis.grid(True, which="both", alpha=0.3)
    axes[2].legend(fontsize="small")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize="small")
    axes[0].set_ylabel("median ms per request (in-process)")
    figure.suptitle(f"openlms: latency by number of users ({results['machine']['database']}, "
                    f"{results['machine']['date']})")
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=90)
    pyplot.close(figure)
    return True
