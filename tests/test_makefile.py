"""The Makefile on odd machines: the tools it needs, a stale .venv, a busy port, no Chromium.

Each test copies the Makefile into a temporary folder and runs the real ``make`` there with a
``PATH`` holding only fakes: a ``python3`` that is this interpreter claiming another version,
``node``/``npm`` that print a version, browsers and ``apt-get`` that log their calls. Nothing is
installed, nothing leaves the folder, and no network is touched.
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _script(path, body):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class Sandbox:
    """A folder with the Makefile and the files it depends on, and a bin/ that is the whole PATH."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / "repo"
        self.bin = tmp_path / "bin"
        self.log = tmp_path / "calls.log"
        self.dir.mkdir()
        self.bin.mkdir()
        shutil.copy(ROOT / "Makefile", self.dir)
        for name in ("pyproject.toml", "constraints.txt", "package.json", "package-lock.json"):
            (self.dir / name).write_text("")
            os.utime(self.dir / name, (1e9, 1e9))  # older than any stamp
        for tool in ("rm", "touch", "id"):
            (self.bin / tool).symlink_to(shutil.which(tool))
        self.tmp = tmp_path

    def python(self, name, version):
        """A fake interpreter ``name``: this Python, with ``sys.version_info`` set to ``version``."""
        site = self.tmp / f"site-{name}"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(f"import sys\nsys.version_info = {tuple(version) + (0, 'final', 0)!r}\n")
        return _script(self.bin / name, f'PYTHONPATH="{site}" exec "{sys.executable}" "$@"')

    def tool(self, name, output="", code=0):
        """A fake command that logs its arguments, prints ``output`` and exits with ``code``."""
        return _script(self.bin / name, f'echo "{name} $*" >> "{self.log}"\nprintf "%s\\n" "{output}"\nexit {code}')

    def node(self, version="v24.11.0"):
        self.tool("node", version)
        self.tool("npm", "11.6.0")

    def venv(self, version, installed=True):
        """A .venv whose ``bin/python`` is this Python claiming ``version``; stamps newer than the inputs."""
        bin_dir = self.dir / ".venv" / "bin"
        bin_dir.mkdir(parents=True)
        fake = self.python(f"venv-python-{version[0]}.{version[1]}", version)
        (bin_dir / "python").symlink_to(fake)
        _script(bin_dir / "mkdocs", f'echo "mkdocs $*" >> "{self.log}"')
        if installed:
            for stamp in (self.dir / ".venv" / ".installed", self.dir / "node_modules" / ".installed"):
                stamp.parent.mkdir(exist_ok=True)
                stamp.touch()

    def make(self, *args, env=None):
        run = subprocess.run([MAKE, "--no-print-directory", *args], cwd=self.dir, capture_output=True, text=True,
                             timeout=60, env={"PATH": str(self.bin), "HOME": str(self.tmp), "PIP_NO_INDEX": "1",
                                              **(env or {})})
        return run

    def calls(self):
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def box(tmp_path):
    return Sandbox(tmp_path)


def _one_line(text):
    """The one line we print; make's own closing ``make: *** [...] Error 1`` is not counted."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("make: *** ")]
    assert len(lines) == 1, f"expected one clear line, got:\n{text}"
    return lines[0]


def test_the_fake_python_claims_its_version(box):
    fake = box.python("python3", (3, 10))
    out = subprocess.run([str(fake), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert out.stdout.strip() == "(3, 10)"


# ---------------------------------------------------------------- tools, checked before anything is installed

def test_an_old_python3_stops_before_a_venv_is_made(box):
    box.python("python3", (3, 10))
    box.node()
    run = box.make("install")
    assert run.returncode != 0
    line = _one_line(run.stderr)
    assert "3.10" in line and "PYTHON=" in line
    assert not (box.dir / ".venv").exists()


def test_a_missing_chosen_python_is_named(box):
    box.node()
    run = box.make("install", "PYTHON=python3.99")
    assert run.returncode != 0
    assert "python3.99 not found" in _one_line(run.stderr)
    assert not (box.dir / ".venv").exists()


@pytest.mark.parametrize("missing", ["node", "npm"])
def test_a_missing_node_tool_stops_before_the_python_install(box, missing):
    box.python("python3", (3, 11))
    box.node()
    (box.bin / missing).unlink()
    run = box.make("install")
    assert run.returncode != 0
    assert f"{missing} not found" in _one_line(run.stderr)
    assert not (box.dir / ".venv").exists()


def test_an_old_node_is_refused_and_node_20_gets_a_note(box):
    box.python("python3", (3, 11))
    box.node("v18.20.4")
    run = box.make("tools")
    assert run.returncode != 0 and "v18.20.4" in _one_line(run.stderr)
    box.node("v20.20.2")
    run = box.make("tools")
    assert run.returncode == 0, run.stderr
    assert "EBADENGINE" in _one_line(run.stdout)
    box.node("v24.11.0")
    assert box.make("tools").stdout.strip() == ""


# ---------------------------------------------------------------- the interpreter, and a .venv made by the wrong one

def test_python_can_be_chosen(box):
    box.python("python3.12", (3, 12))
    box.node()
    run = box.make("-n", "install", "PYTHON=python3.12")
    assert "python3.12 -m venv .venv" in run.stdout, run.stdout + run.stderr


def test_a_venv_of_a_too_old_python_is_rebuilt(box):
    box.python("python3", (3, 11))
    box.node()
    box.venv((3, 10))
    run = box.make("-n", "install")
    assert "rm -rf .venv" in run.stdout and "python3 -m venv .venv" in run.stdout, run.stdout + run.stderr


def test_a_venv_whose_python_is_gone_is_rebuilt(box):
    box.python("python3", (3, 11))
    box.node()
    box.venv((3, 11))
    (box.bin / "venv-python-3.11").unlink()  # the interpreter the venv was made from was uninstalled
    run = box.make("-n", "install")
    assert "does not run" in run.stdout and "python3 -m venv .venv" in run.stdout, run.stdout + run.stderr


def test_a_venv_of_another_version_is_rebuilt_only_when_python_is_chosen(box):
    box.python("python3", (3, 11))
    box.python("python3.12", (3, 12))
    box.node()
    box.venv((3, 11))
    assert "-m venv" not in box.make("-n", "install").stdout, "a good .venv must be kept"
    run = box.make("-n", "install", "PYTHON=python3.12")
    assert "rm -rf .venv" in run.stdout and "python3.12 -m venv .venv" in run.stdout, run.stdout + run.stderr
    kept = box.make("-n", "install", "PYTHON=python3")
    assert "-m venv" not in kept.stdout, "the same version chosen: keep the .venv"


# ---------------------------------------------------------------- make serve

def test_serve_uses_the_chosen_address(box):
    box.python("python3", (3, 11))
    box.node()
    box.venv((3, 11))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = box.make("serve", f"ADDR=127.0.0.1:{port}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"mkdocs serve --dev-addr 127.0.0.1:{port}" in box.calls()


def test_serve_on_a_busy_port_says_how_to_choose_another(box):
    box.python("python3", (3, 11))
    box.node()
    box.venv((3, 11))
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        run = box.make("serve", f"ADDR=127.0.0.1:{port}")
    assert run.returncode != 0
    line = _one_line(run.stderr)
    assert f"127.0.0.1:{port}" in line and "ADDR=" in line
    assert not any(call.startswith("mkdocs") for call in box.calls())


# ---------------------------------------------------------------- make page, make lib

@pytest.mark.parametrize("args", [[], ["PAGE=no-such-page"]])
def test_page_without_an_existing_page_says_how_to_name_one(box, args):
    box.python("python3", (3, 11))
    box.node()
    box.venv((3, 11))
    run = box.make("page", *args)
    assert run.returncode != 0
    assert "make page PAGE=linearity" in _one_line(run.stderr)


def test_every_file_make_lib_leaves_out_exists():
    """A renamed site or tooling test would otherwise slip into the library's command unnoticed."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    left_out = re.search(r"^LIB_NOT := (.*)$", text, re.M).group(1).split()
    assert left_out and all((ROOT / path).exists() for path in left_out), left_out
    assert "--ignore-glob='tests/test_fig_*'" in text


def test_readme_says_how_to_choose_the_address_and_the_python():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make serve ADDR=" in readme
    assert "PYTHON=python3.12" in readme


# ---------------------------------------------------------------- make chromium

def test_chromium_uses_a_browser_already_there(box):
    chrome = box.tool("google-chrome")
    box.tool("apt-get")
    box.tool("apt-cache", "Candidate: 1:120.0")
    run = box.make("chromium", "SUDO=")
    assert run.returncode == 0, run.stderr
    assert str(chrome) in run.stdout
    assert not [c for c in box.calls() if c.startswith("apt")], "apt must not run when a browser is there"


def test_chromium_honours_the_chromium_variable(box):
    mine = box.tool("my-chromium")
    box.tool("chromium")
    run = box.make("chromium", "SUDO=", env={"CHROMIUM": str(mine)})
    assert run.returncode == 0 and str(mine) in run.stdout
    run = box.make("chromium", "SUDO=", env={"CHROMIUM": str(box.bin / "nothing-here")})
    assert run.returncode != 0 and "CHROMIUM=" in _one_line(run.stderr)


def test_chromium_installs_debians_package_where_apt_has_one(box):
    box.tool("apt-get")
    box.tool("apt-cache", "chromium:\n  Installed: (none)\n  Candidate: 142.0.7444.175-1")
    run = box.make("chromium", "SUDO=")
    assert run.returncode == 0, run.stderr
    assert "apt-get install -y -qq chromium" in box.calls()


def test_chromium_stops_with_one_line_where_apt_has_none(box):
    box.tool("apt-get")
    box.tool("apt-cache", "chromium:\n  Installed: (none)\n  Candidate: (none)")
    run = box.make("chromium", "SUDO=")
    assert run.returncode != 0
    assert "CHROMIUM=" in _one_line(run.stderr)
    assert not [c for c in box.calls() if "install" in c]


def test_chromium_stops_with_one_line_without_apt(box):
    run = box.make("chromium", "SUDO=")
    assert run.returncode != 0
    assert "install Chromium" in _one_line(run.stderr)


def test_serve_reloads_on_library_and_hook_edits():
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    watched = {Path(p).resolve() for p in config.watch}
    assert {ROOT / "src", ROOT / "hooks"} <= watched, f"mkdocs serve watches {sorted(map(str, watched))}"


@pytest.mark.parametrize("present", [["google-chrome"], ["chromium-browser", "google-chrome"],
                                     ["chromium", "google-chrome"], []])
def test_the_browser_suite_picks_the_browser_make_picks(box, present):
    from tests.browser import checks

    for name in present:
        box.tool(name)
    found, missing = checks.find_chromium({"PATH": str(box.bin)})
    run = box.make("chromium", "SUDO=")
    if present:
        assert found == str(box.bin / present[0]) and f"browser: {found}" in run.stdout, run.stdout + run.stderr
    else:
        assert found is None and "CHROMIUM=" in missing and run.returncode != 0
    mine = box.tool("my-browser")
    assert checks.find_chromium({"PATH": str(box.bin), "CHROMIUM": str(mine)}) == (str(mine), None)
    assert checks.find_chromium({"PATH": str(box.bin), "CHROMIUM": "nothing-here"})[0] is None
