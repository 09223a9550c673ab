"""Every file the project's text points at exists, and nothing cites reference notes that are
not part of the repository.

The scan reads the project's own .py, .md, .js, .css, .toml and .conf files and the JSON schemas
under docs/ (not .venv, .git, the runtime data directory, test artifacts or build output) and
collects:

- repo paths with a top-level folder of this repository: ``docs/domain.md``,
  ``dashboard/casework/overdue.py``, ``dashboard/screens/wall.py``, ``assets/gridwall-map.js``, ...;
- bare Markdown file names (``casework.md §Scores``): found next to the citing file (a link
  between two docs) or at the repository root (README.md); in code they must carry the path;
- relative Markdown links (``[deploy](deploy/gridwall.toml)``, ``(../README.md)``).

Glob patterns, placeholders (``<name>``, ``{z}``), URLs and absolute paths are not references.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

SUFFIXES = {".py", ".md", ".js", ".css", ".toml", ".conf", ".json"}
# Top-level folders that are not the project's text: the virtualenv, git, the runtime data
# directory (Settings.data_dir = ./data), test artifacts, build metadata.
SKIP_TOP = {".venv", ".git", "data", "test-artifacts", "gridwall.egg-info", ".ci"}
SKIP_ANY = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules"}

# The repository's own top-level folders: a path that starts with one of them is a repo path.
REPO_DIRS = ("docs", "dashboard", "feeds", "assets", "layouts", "tests", "bench")
EXTENSIONS = ("py", "md", "js", "css", "toml", "json", "geojson", "png", "wav", "conf", "csv", "txt", "sql", "sh")

# A repo path: one of REPO_DIRS, then path segments, ending in a known extension. Not inside a
# longer path or URL (no word character, '/', '.', '-' or ':' right before it).
PATH_RE = re.compile(
    r"(?<![\w/.\-:@])((?:" + "|".join(REPO_DIRS) + r")/[\w.\-/]*?\.(?:" + "|".join(EXTENSIONS) + r"))(?![\w\-*<>{])"
)
# A bare Markdown file name: README.md, casework.md.
BARE_MD_RE = re.compile(r"(?<![\w/.\-:@])([\w\-]+\.md)(?![\w\-])")
# A relative Markdown link target: [text](target) or [text](target#anchor).
LINK_RE = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")

# Paths that name another project's file, not ours, each with the reason. Keep it short.
ALLOWED: dict[str, str] = {
    "docs/tech/json.md": "the OwnTracks booklet's JSON spec, cited by feeds/decoders/owntracks.py",
}

# Reference notes kept outside the repository: the project states their facts itself instead.
# (Built from parts so this file does not match its own check.)
FORBIDDEN_RE = re.compile(
    r"(?<![\w\-])(?:" + "|".join(re.escape(n) for n in ("tech" + "-notes", "peers" + ".md", "style" + ".md")) + r")",
    re.IGNORECASE,
)


def project_files() -> list[Path]:
    """The scanned files; this test's own file is left out, its examples are not references."""
    out = []
    for folder, dirs, names in os.walk(ROOT):
        here = Path(folder)
        dirs[:] = [d for d in dirs if d not in SKIP_ANY and not (here == ROOT and d in SKIP_TOP)]
        for name in names:
            path = here / name
            if path.suffix not in SUFFIXES or path == THIS:
                continue
            if path.suffix == ".json" and path.relative_to(ROOT).parts[0] != "docs":
                continue  # JSON elsewhere is data (the city, fixtures); the docs' schemas are text
            out.append(path)
    return sorted(out)


def broken_references(path: Path) -> list[str]:
    """``file:line: reference`` for each reference in ``path`` to a file that does not exist."""
    rel = path.relative_to(ROOT)
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found: set[str] = set()
        for match in PATH_RE.finditer(line):
            target = match.group(1).rstrip(".")
            found.add(target)
            if target not in ALLOWED and not (ROOT / target).exists():
                out.append(f"{rel}:{number}: {target}")
        if path.suffix == ".md":
            for match in LINK_RE.finditer(line):
                target = match.group(1)
                if re.match(r"^[a-z][a-z0-9+.\-]*:", target) or target.startswith("/"):
                    continue  # a URL or an absolute path
                found.add(target)
                if target not in ALLOWED and not (path.parent / target).exists():
                    out.append(f"{rel}:{number}: {target}")
        for match in BARE_MD_RE.finditer(line):
            target = match.group(1)
            if target in found or any(f.endswith("/" + target) for f in found) or target in ALLOWED:
                continue
            if FORBIDDEN_RE.search(target):
                continue  # reported by the other test
            # Between docs a bare name is a sibling; anywhere else only a root file may be bare.
            if (ROOT / target).exists() or (rel.parts[0] == "docs" and (path.parent / target).exists()):
                continue
            out.append(f"{rel}:{number}: {target} (bare name: write its path, e.g. docs/{target})")
    return out


def test_scan_finds_project_files():
    files = {str(p.relative_to(ROOT)) for p in project_files()}
    assert "README.md" in files and "docs/domain.md" in files and "pyproject.toml" in files
    assert not any(f.startswith((".venv/", ".git/")) for f in files)


def test_every_referenced_file_exists():
    broken = [ref for path in project_files() for ref in broken_references(path)]
    assert not broken, "references to files that do not exist:\n" + "\n".join(broken)


def test_no_citation_of_notes_outside_the_repo():
    hits = []
    for path in project_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if FORBIDDEN_RE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "citations of notes that are not in the repository:\n" + "\n".join(hits)


def test_the_patterns_themselves():
    line = ("see docs/domain.md §5.3, dashboard/casework/overdue.py and `tests/unit/test_*.py`; "
            "https://example.org/docs/x.md and /work/feeds/y.py are not ours; docs/<name>.md neither")
    assert [m.group(1) for m in PATH_RE.finditer(line)] == ["docs/domain.md", "dashboard/casework/overdue.py"]
    assert [m.group(1) for m in BARE_MD_RE.finditer("as casework.md §Scores says; docs/wall.md")] == ["casework.md"]
    assert FORBIDDEN_RE.search("(" + "tech" + "-notes §9)")
    assert not FORBIDDEN_RE.search("gridwall-map" + "style.md")
