"""``grantops audit report`` as Markdown, CSV or JSON, from the same sections.

Markdown shows every section, each a table under its heading; CSV is one table, the
section ``--section`` names; JSON is one document holding every section's records.
Every value comes from the log or the access repository, which anyone who can push may
edit, so each leaves through :mod:`grantops.safetext` for its sink.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from tabulate import tabulate

from grantops.audit.sections import Facts, Section, Value
from grantops.safetext import for_csv, for_json, for_markdown, for_markdown_cell
from grantops.values import format_timestamp


def cell(key: str, value: Value) -> str:
    """One value as text: a pull request as ``#N``, a list joined, yes or no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"#{value}" if key == "pull" else str(value)
    return ", ".join(value) if isinstance(value, list) else value


def _title(facts: Facts) -> str:
    if facts.since is None:
        return "# Access at a point in time\n"
    window = f"{format_timestamp(facts.since)} to {format_timestamp(facts.until)}"
    return f"# Access history {window}\n"


def _summary(sections: Sequence[Section]) -> str:
    counts = {s.name: len(s.records) for s in sections}
    removed = next((s.records for s in sections if s.name == "removals"), [])
    whys: dict[str, int] = {}
    for record in removed:
        why = str(record["why"])
        whys[why] = whys.get(why, 0) + 1
    detail = ", ".join(f"{n} {why}" for why, n in sorted(whys.items()))
    labels = {
        "periods": "Access periods",
        "versions": "Grant versions",
        "removals": "Removals",
        "failed": "Failed changes",
    }
    parts = [
        f"- {label}: **{counts[name]}**" + (f" ({detail})" if name == "removals" and detail else "")
        for name, label in labels.items()
        if name in counts
    ]
    return "".join(f"{part}\n" for part in parts)


def _markdown_section(section: Section) -> str:
    notes = "".join(f"{for_markdown(note)}\n\n" for note in section.notes)
    if not section.records:
        return f"## {for_markdown(section.title)}\n\n{notes}_{section.empty}_\n"
    rows = [
        # every cell is untrusted text but a pull request's number, shown as a link
        [
            cell(key, r.get(key)) if key == "pull" else for_markdown_cell(cell(key, r.get(key)))
            for _, key in section.columns
        ]
        for r in section.records
    ]
    headers = [header for header, _ in section.columns]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    return f"## {for_markdown(section.title)}\n\n{notes}{table}\n"


def markdown(sections: Sequence[Section], facts: Facts) -> str:
    parts = [_title(facts)]
    if summary := _summary(sections):
        parts.append(summary)
    parts += [_markdown_section(section) for section in sections]
    return "\n".join(parts)


def csv_text(section: Section) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header for header, _ in section.columns])
    writer.writerows(
        [for_csv(cell(key, r.get(key))) for _, key in section.columns] for r in section.records
    )
    return buffer.getvalue()


def json_text(sections: Sequence[Section], facts: Facts) -> str:
    document = {
        "since": format_timestamp(facts.since) if facts.since else None,
        "until": format_timestamp(facts.until),
        "at": format_timestamp(facts.at) if facts.at else None,
        "sections": {
            s.name: {"title": s.title, "notes": list(s.notes), "rows": s.records} for s in sections
        },
    }
    return for_json(document)
