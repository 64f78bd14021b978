"""A report as plain data (sections of paragraphs, tables and figures), rendered to Markdown and HTML.

Both renderers escape every piece of text they are given: detector specs, scenario names and messages
come from users and files, and must never become markup.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Paragraph:
    text: str


@dataclass
class TableBlock:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    path: Path  # the PNG on disk
    alt: str


Block = Paragraph | TableBlock | Figure


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


def _md_cell(text: str) -> str:
    # A pipe would end the cell, a newline the row; < and & could open raw HTML in most renderers.
    return (html.escape(str(text), quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
            .replace("`", "\\`"))


def _md_text(text: str) -> str:
    return html.escape(str(text), quote=False).replace("`", "\\`")


def to_markdown(title: str, sections: list[Section], base: Path) -> str:
    """Markdown with pipe tables; figures as paths relative to ``base`` (where report.md is)."""
    lines = [f"# {_md_text(title)}", ""]
    for sec in sections:
        lines += [f"## {_md_text(sec.title)}", ""]
        for b in sec.blocks:
            if isinstance(b, Paragraph):
                lines += [_md_text(b.text), ""]
            elif isinstance(b, TableBlock):
                if b.caption:
                    lines += [f"*{_md_cell(b.caption)}*", ""]
                lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
                lines.append("|" + "|".join("---" for _ in b.headers) + "|")
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
                lines.append("")
            else:
                rel = b.path.relative_to(base).as_posix() if b.path.is_relative_to(base) else b.path.as_posix()
                alt = _md_cell(b.alt).replace("[", "\\[").replace("]", "\\]")
                lines += [f"![{alt}](<{rel}>)", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#f2f2f2}
td:first-child,th:first-child{text-align:left}caption{text-align:left;font-style:italic;padding:.2em 0}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
"""


def to_html(title: str, sections: list[Section]) -> str:
    """One self-contained HTML page: inline CSS, figures embedded as base64 PNG, all text escaped."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for sec in sections:
        parts.append(f"<h2>{e(sec.title)}</h2>")
        for b in sec.blocks:
            if isinstance(b, Paragraph):
                parts.append(f"<p>{e(b.text)}</p>")
            elif isinstance(b, TableBlock):
                parts.append("<table>")
                if b.caption:
                    parts.append(f"<caption>{e(b.caption)}</caption>")
                parts.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in b.headers) + "</tr>")
                parts += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in b.rows]
                parts.append("</table>")
            else:
                data = base64.b64encode(b.path.read_bytes()).decode("ascii")
                parts.append(f'<figure><img alt="{e(b.alt)}" src="data:image/png;base64,{data}"></figure>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
