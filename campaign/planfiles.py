"""The plan as files people open elsewhere: an Excel workbook and an iCalendar feed.

`campaign plan --format xlsx`: one row per occurrence; a thread's parts, and each part's media,
in columns of their own (as many as the longest thread needs), times as real Excel date cells.
`campaign plan --format ics`: one event per occurrence, its UID the occurrence's key (stable
across runs, so a calendar that subscribes updates events instead of duplicating them).

Written for the campaign package alone: `archive` has its own XLSX writer for millions of rows,
but campaign must not import archive, and a plan is small enough for a plain workbook.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import IO, Sequence

_SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_CELL = 32_767


def _cell(value: str) -> str:
    value = value[:MAX_CELL]
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def xlsx_header(occurrences: Sequence) -> list[str]:
    parts = max((len(o.parts) for o in occurrences), default=1)
    media = max((len(p.media) for o in occurrences for p in o.parts), default=0)
    header = ["Lokale tijd", "UTC", "Tijdzone", "Account", "Platform", "Campagne", "Bericht", "Variant",
              "Lengte", "Limiet", "Goedkeuringen nodig", "Id"]
    for number in range(1, parts + 1):
        label = f"Deel {number}" if parts > 1 else "Tekst"
        header.append(label)
        for m in range(1, media + 1):
            header += [f"{label} media {m}", f"{label} alt {m}"]
    return header


def write_xlsx(out: IO[bytes], occurrences: Sequence) -> int:
    """The occurrences as an .xlsx workbook written to `out` (a binary stream); returns the rows."""
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("plan")
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    header = xlsx_header(occurrences)
    parts = max((len(o.parts) for o in occurrences), default=1)
    media = max((len(p.media) for o in occurrences for p in o.parts), default=0)
    sheet.write_row(0, 0, header, bold)
    for row, occ in enumerate(occurrences, 1):
        sheet.write_datetime(row, 0, occ.local_time.replace(tzinfo=None), when)
        sheet.write_datetime(row, 1, occ.due_at.astimezone(timezone.utc).replace(tzinfo=None), when)
        values = [occ.timezone, occ.account, occ.platform, occ.campaign_id, occ.post_id]
        for column, value in enumerate(values, 2):
            sheet.write_string(row, column, _cell(value))
        sheet.write_number(row, 7, occ.variant + 1)
        sheet.write_number(row, 8, max(p.length for p in occ.parts))
        sheet.write_number(row, 9, occ.limit)
        sheet.write_number(row, 10, occ.approvals_needed)
        sheet.write_string(row, 11, _cell(occ.key))
        column = 12
        for index in range(parts):
            part = occ.parts[index] if index < len(occ.parts) else None
            if part is not None:
                sheet.write_string(row, column, _cell(part.text), wrap)
            column += 1
            for m in range(media):
                if part is not None and m < len(part.media):
                    sheet.write_string(row, column, _cell(part.media[m].path))
                    sheet.write_string(row, column + 1, _cell(part.media[m].alt))
                column += 2
    widths = [17, 17, 16, 18, 10, 20, 20, 8, 8, 8, 10, 40] + ([60] + [30, 40] * media) * parts
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(occurrences), len(header) - 1)
    workbook.close()
    out.write(buffer.getvalue())
    return len(occurrences)


def ics(occurrences: Sequence, *, now: datetime | None = None, name: str = "Campagneplanning") -> bytes:
    """The occurrences as an iCalendar (RFC 5545) calendar: a 5-minute event per occurrence."""
    from icalendar import Calendar, Event

    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", "-//Praat mee//campaign plan//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for occ in occurrences:
        event = Event()
        event.add("uid", occ.key)
        event.add("dtstamp", stamp)
        start = occ.due_at.astimezone(timezone.utc)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=5))
        first = occ.parts[0].text.replace("\n", " ")
        event.add("summary", _cell(f"{occ.account} ({occ.platform}): {first[:80]}"))
        body = "\n\n".join(f"{i}/{len(occ.parts)} {p.text}" if len(occ.parts) > 1 else p.text
                           for i, p in enumerate(occ.parts, 1))
        event.add("description", _cell(f"{body}\n\n{occ.campaign_name} · {occ.key}"))
        event.add("categories", [occ.campaign_id])
        calendar.add_component(event)
    return calendar.to_ical()
