"""The GitHub Actions workflow, as GitHub will run it: pinned, least privilege, current, scanned.

zizmor (the static analyser for GitHub Actions, pinned in ``constraints.txt``) must find
nothing in ``.github/``; the planted tests copy the workflow, plant one fault each, and
watch zizmor catch it. The rest reads ``site.yml`` as YAML and checks what zizmor does not
know about this project: the test step runs the README's command, Node satisfies every
package's ``engines`` in the lockfile, no step installs a browser with apt, and Dependabot
keeps each ecosystem current in one grouped pull request a week.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
ZIZMOR = Path(sys.executable).parent / "zizmor"
SHA = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _load(path):
    # PyYAML reads the bare key `on` as True; keep it a string.
    text = path.read_text(encoding="utf-8")
    return yaml.load(text, Loader=_StringOn)


class _StringOn(yaml.SafeLoader):
    pass


_StringOn.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _steps(workflow):
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def zizmor(folder):
    """zizmor's findings on ``folder`` as ``[(audit id, location)]`` (offline: no GitHub API)."""
    if not ZIZMOR.is_file():
        pytest.fail(f"zizmor is not installed at {ZIZMOR} (it is pinned in constraints.txt; make install)")
    run = subprocess.run([str(ZIZMOR), "--offline", "--no-progress", "--format", "json", str(folder)],
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.strip(), f"zizmor printed nothing (exit {run.returncode}):\n{run.stderr[-2000:]}"
    found = json.loads(run.stdout)
    out = []
    for finding in found:
        where = finding["locations"][0]
        line = where["concrete"]["location"]["start_point"]["row"] + 1
        out.append((finding["ident"], f"line {line}: {where['concrete']['feature']}"))
    return out


# ---------------------------------------------------------------- zizmor, and proof that it sees faults

def test_zizmor_finds_nothing():
    assert zizmor(ROOT / ".github") == []


def _planted(tmp_path, edit):
    folder = tmp_path / ".github"
    shutil.copytree(ROOT / ".github", folder)
    path = folder / "workflows" / "site.yml"
    text = path.read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text, "the plant did not change the workflow"
    path.write_text(changed, encoding="utf-8")
    return folder


def test_zizmor_catches_an_action_pinned_by_tag(tmp_path):
    folder = _planted(tmp_path, lambda t: re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v7", t, count=1))
    assert "unpinned-uses" in [ident for ident, _ in zizmor(folder)]


def test_zizmor_catches_a_pull_request_target_trigger(tmp_path):
    folder = _planted(tmp_path, lambda t: t.replace("\n  pull_request:\n", "\n  pull_request_target:\n", 1))
    assert "dangerous-triggers" in [ident for ident, _ in zizmor(folder)]


def test_zizmor_catches_a_persisted_checkout_token(tmp_path):
    folder = _planted(tmp_path, lambda t: t.replace("\n        with:\n          persist-credentials: false", "", 1))
    assert "artipacked" in [ident for ident, _ in zizmor(folder)]


def test_zizmor_is_pinned():
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert re.search(r"^zizmor==[\d.]+$", pins, re.M), "zizmor must have an exact pin in constraints.txt"


# ---------------------------------------------------------------- what zizmor does not know

def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment():
    lines = WORKFLOW.read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"^\s*(- )?uses:", line)]
    assert uses, "no `uses:` line found"
    for line in uses:
        m = re.match(r"^\s*(?:- )?uses:\s*(\S+)\s*#\s*v(\d+\.\d+\.\d+)\s*$", line)
        assert m, f"not `uses: owner/action@<sha> # vX.Y.Z`: {line.strip()}"
        assert SHA.match(m.group(1)), f"not pinned to a full commit SHA: {line.strip()}"


def test_the_test_step_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```console\n(.*?)\n```", readme)
    test_command = next(c for c in commands if "test" in c)
    runs = [step.get("run", "").strip() for _, step in _steps(_load(WORKFLOW))]
    assert test_command in runs, f"no workflow step runs the README's `{test_command}`: {runs}"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in [line.strip() for line in ci], f".ci/run does not run `{test_command}`"


def _node_major_minor(spec):
    return tuple(int(p) for p in str(spec).split(".")[:2]) + (0,) * (2 - len(str(spec).split(".")[:2]))


def _satisfies(version, engine):
    """Whether ``version`` (major, minor) meets an ``engines.node`` range of the form ``>=X[.Y[.Z]]``."""
    m = re.fullmatch(r">=\s*(\d+)(?:\.(\d+))?(?:\.\d+)?", engine.strip())
    assert m, f"unhandled engines range {engine!r}: teach this test to read it"
    return version >= (int(m.group(1)), int(m.group(2) or 0))


def test_satisfies_reads_ranges():
    assert _satisfies((24, 0), ">=22.12.0") and _satisfies((22, 12), ">=22.12.0")
    assert not _satisfies((20, 20), ">=22.12.0") and not _satisfies((22, 11), ">=22.12")


def test_ci_node_meets_every_locked_package_engine():
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    engines = {name: pkg["engines"]["node"] for name, pkg in lock["packages"].items()
               if "node" in pkg.get("engines", {})}
    nodes = [step["with"]["node-version"] for _, step in _steps(_load(WORKFLOW))
             if "setup-node" in step.get("uses", "")]
    assert nodes, "no setup-node step"
    for node in nodes:
        version = _node_major_minor(node)
        assert version[0] % 2 == 0, f"Node {node} is not an LTS line"
        bad = {n: e for n, e in engines.items() if not _satisfies(version, e)}
        assert bad == {}, f"CI's Node {node} does not meet {bad}"


def test_no_step_installs_a_browser_with_apt():
    for job, step in _steps(_load(WORKFLOW)):
        assert "apt" not in step.get("run", ""), f"{job}: {step.get('name')} runs apt (Ubuntu has no `chromium`)"


def test_permissions_are_least_privilege():
    workflow = _load(WORKFLOW)
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    for name, job in jobs.items():
        uses = [step.get("uses", "") for step in job.get("steps", [])]
        expected = {"contents": "read"}
        if any("configure-pages" in u for u in uses):
            expected = {"contents": "read", "pages": "read"}  # the Pages API, on a private repository
        if any("deploy-pages" in u for u in uses):
            expected = {"pages": "write", "id-token": "write"}
        assert job.get("permissions", workflow["permissions"]) == expected, f"job {name}"


def test_every_checkout_drops_its_token():
    checkouts = [step for _, step in _steps(_load(WORKFLOW)) if "actions/checkout" in step.get("uses", "")]
    assert checkouts and all(step.get("with", {}).get("persist-credentials") is False
                             or step.get("with", {}).get("persist-credentials") == "false" for step in checkouts)


def test_dependabot_updates_each_ecosystem_weekly_in_one_group():
    config = _load(DEPENDABOT)
    assert config["version"] in (2, "2")
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip", "npm"}
    for ecosystem, update in updates.items():
        assert update["directory"] == "/"
        assert update["schedule"]["interval"] == "weekly", ecosystem
        groups = update.get("groups", {})
        assert len(groups) == 1 and next(iter(groups.values())).get("patterns") == ["*"], \
            f"{ecosystem}: one group with every dependency, so one pull request per ecosystem"
