#!/usr/bin/env python3
"""Bootstrap for a fresh machine with Python 3.11+: ``python3 dev.py demo`` or ``python3 dev.py test``.

Makes ``.venv`` beside this file, installs Gongzhi into it (again only when
pyproject.toml changed), then runs the demo or the test suite. For the
browser tests it installs Debian's chromium with apt-get when it is missing
and we are root; otherwise it says what to install.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CHROMIUM = "/usr/bin/chromium"


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def ensure_venv(extra: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("Gongzhi needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    spec = f".[{extra}]" if extra else "."
    run([BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", spec], cwd=ROOT)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "chromium", "fonts-noto-cjk"], env=env)
    else:
        print("Browser tests need Debian's chromium at /usr/bin/chromium: sudo apt-get install chromium fonts-noto-cjk",
              file=sys.stderr)


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    rest = sys.argv[2:]
    if what == "demo":
        ensure_venv("")
        os.execv(BIN / "gongzhi", [str(BIN / "gongzhi"), "demo", *rest])
    elif what == "test":
        ensure_venv("test")
        ensure_chromium()
        os.chdir(ROOT)
        os.execv(BIN / "python", [str(BIN / "python"), "-m", "pytest", *rest])
    else:
        sys.exit("usage: python3 dev.py demo [--port N] | python3 dev.py test [pytest args]")


if __name__ == "__main__":
    main()
