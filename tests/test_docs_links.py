"""The product's docs point only at what the repository has: every relative Markdown link in
README.md and docs/*.md names a file that exists and, when it names a heading, a heading that
the file has (as GitHub makes its anchors); a Markdown file named in code (`architecture.md`)
exists too, since a reader looks for it just the same."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def prose(text: str) -> str:
    """The text without fenced code blocks: a link inside one is an example, not a link."""
    return FENCE.sub("", text)


def links(text: str) -> list[str]:
    body = CODE_SPAN.sub("", prose(text))
    return INLINE_LINK.findall(body) + REFERENCE_DEFINITION.findall(body)


def named_markdown_files(text: str) -> list[str]:
    return [m.group(2).strip() for m in CODE_SPAN.finditer(prose(text)) if re.fullmatch(r"[\w./-]+\.md", m.group(2).strip())]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text without markup, lower case, punctuation dropped
    (letters, digits, spaces, hyphens and underscores stay), spaces turned into hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its words
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis, not snake_case names
    text = "".join(c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file; a repeated heading gets -1, -2... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(prose(path.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def shown(file: Path) -> str:
    return str(file.relative_to(ROOT)) if file.is_relative_to(ROOT) else file.name


def broken(doc: Path) -> list[str]:
    text = doc.read_text()
    problems = []
    for target in links(text):
        if SCHEME.match(target):
            continue  # a web address: not the repository's to keep
        path_part, _, anchor = target.partition("#")
        file = (doc.parent / path_part).resolve() if path_part else doc
        if not file.exists():
            problems.append(f"{target}: no file {shown(file)}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            problems.append(f"{target}: no heading #{anchor} in {shown(file)}")
    for name in named_markdown_files(text):
        if not ((doc.parent / name).exists() or (ROOT / name).exists()):
            problems.append(f"`{name}`: no such file in the repository")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_link_of_the_docs_leads_somewhere(doc: Path) -> None:
    assert broken(doc) == []


def test_it_finds_the_broken_links_it_is_meant_to_find(tmp_path: Path) -> None:
    """The checker itself, on a document with one link of each kind, good and bad."""
    (tmp_path / "other.md").write_text("# Backup and restore\n\n## `tandem promise`: the *model*\n\n## Modes\n\n## Modes\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Here\n\n[ok](other.md) [ok](other.md#backup-and-restore) [ok](other.md#tandem-promise-the-model)\n"
        "[ok](other.md#modes-1) [ok](#here) [web](https://example.com/x.md) `other.md`\n"
        "[gone](missing.md) [no heading](other.md#restore) [no local heading](#there) `DESIGN.md`\n"
        "```\n[example](not-checked.md)\n```\n"
        "[ref]: nowhere.png\n"
    )
    assert broken(doc) == [
        "missing.md: no file missing.md",
        "other.md#restore: no heading #restore in other.md",
        "#there: no heading #there in doc.md",
        "nowhere.png: no file nowhere.png",
        "`DESIGN.md`: no such file in the repository",
    ]
    assert "docs/users.md" in links((ROOT / "README.md").read_text())  # and it reads the real ones
