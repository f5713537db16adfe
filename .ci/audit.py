"""Known vulnerabilities in what we install: pip-audit over the project's virtual environment.

Fails on a vulnerability that is not accepted in .ci/accepted-vulnerabilities.txt (one per line: the
advisory id, the package, and the reason we accept it). pip-audit by itself says "No known
vulnerabilities found" and exits 0 when its service could not tell it anything about a package, so
this script counts the packages actually audited and says plainly how many could not be.

    .venv/bin/python .ci/audit.py [pip-audit options, e.g. -s osv --osv-url URL of an OSV mirror]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ACCEPTED = Path(__file__).with_name("accepted-vulnerabilities.txt")
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def accepted() -> dict[str, str]:
    """Accepted advisory ids and their lines, from the accepted list (# starts a comment)."""
    lines = (line.split("#", 1)[0].strip() for line in ACCEPTED.read_text(encoding="utf-8").splitlines())
    return {line.split()[0]: line for line in lines if line}


def main() -> int:
    ignored = accepted()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        run = subprocess.run([str(PIP_AUDIT), "--local", "--progress-spinner", "off", "--format", "json",
                              "--output", str(report), *(f"--ignore-vuln={i}" for i in ignored), *sys.argv[1:]],
                             capture_output=True, text=True, timeout=900)
        if not report.exists():
            reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"dependency audit: NOT RUN, pip-audit failed: {reason[:200]}")
            return 0
        dependencies = json.loads(report.read_text(encoding="utf-8"))["dependencies"]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    found = [(d["name"], d["version"], v["id"], v.get("fix_versions", [])) for d in dependencies
             for v in d.get("vulns", [])]
    print(f"dependency audit: {len(dependencies) - len(skipped)} of {len(dependencies)} installed packages "
          f"audited, {len(found)} known vulnerabilities outside the {len(ignored)} accepted")
    if skipped:
        print(f"  NOT AUDITED: {len(skipped)} packages, for example: {skipped[0]['skip_reason']}")
    for line in ignored.values():
        print(f"  accepted: {line}")
    for name, version, advisory, fixes in found:
        print(f"  VULNERABLE: {name} {version}: {advisory}, fixed in {', '.join(fixes) or 'no release yet'}")
    if found:
        print(f"Upgrade the package, or accept the advisory with its reason in {ACCEPTED.name}.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
