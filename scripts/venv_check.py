"""The drift check: the running Python's installed packages equal a lock file.

    VENV/bin/python scripts/venv_check.py requirements/NAME.txt

Every requirement of the lock whose environment marker holds here must be installed at
exactly its version, and nothing else may be (but pip and the setuptools that `python -m
venv` itself puts there, unless the lock names them). Exits 1 naming each difference and
the fix; prints one line when they are equal.
"""

import importlib.metadata
import re
import sys
import sysconfig

from pip._vendor.packaging.markers import Marker

# What `python -m venv` installs by itself; the locks (uv pip compile) leave them out.
VENV_OWN = {"pip", "setuptools", "wheel"}


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path):
    """{name: version} for the lock's requirements whose markers hold here."""
    text = open(path, encoding="utf-8").read()
    wanted = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        spec, _, marker = line.partition(";")
        spec = re.sub(r"\s*--hash=\S+", "", spec).strip()
        marker = re.sub(r"\s*--hash=\S+", "", marker).strip()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", spec)
        if not match:
            sys.exit(f"{path}: not a pinned requirement: {line!r}")
        if marker and not Marker(marker).evaluate():
            continue
        wanted[normalise(match.group(1))] = match.group(3)
    return wanted


def installed():
    return {normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def main():
    lock = sys.argv[1]
    wanted, have = locked(lock), installed()
    problems = []
    for name, version in sorted(wanted.items()):
        if name not in have:
            problems.append(f"{name}=={version} is locked but not installed")
        elif have[name] != version:
            problems.append(f"{name} {have[name]} is installed, the lock names {version}")
    for name in sorted(set(have) - set(wanted) - VENV_OWN):
        problems.append(f"{name} {have[name]} is installed but not in the lock")
    venv = sysconfig.get_paths()["data"]
    if problems:
        print(f"{venv} does not match {lock}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print(f"fix: rm -rf {venv} and run make again (it rebuilds the venv from the lock)", file=sys.stderr)
        sys.exit(1)
    print(f"{venv}: {len(wanted)} packages, as {lock} names them")


if __name__ == "__main__":
    main()
