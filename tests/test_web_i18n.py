"""Every text of the workspace has its Dutch translation (Dutch is the default language)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parent.parent / "web"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def used_messages() -> dict[str, str]:
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_t": (2,)},
            options_map={"**/templates/**.html": {"extensions": ""}}):
        key = message if isinstance(message, str) else message[0]
        found.setdefault(key, filename)
    return found


def dutch_entries() -> list[tuple[str, str, object]]:
    """(catalogue file, message id, translation) of every Dutch entry."""
    entries = []
    for po_file in sorted((WEB / "locale" / "nl" / "LC_MESSAGES").glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    entries.append((po_file.name, key, message.string))
    return entries


def dutch_catalogue() -> dict[str, object]:
    return {key: string for _file, key, string in dutch_entries()}


def test_each_text_is_translated_in_one_catalogue_only():
    """A text used by several pages lives in common.po, so one change of wording reaches every page."""
    files: dict[str, list[str]] = {}
    for name, key, _string in dutch_entries():
        files.setdefault(key, []).append(name)
    assert {key: names for key, names in files.items() if len(names) > 1} == {}


def test_every_workspace_text_has_a_dutch_translation():
    used, dutch = used_messages(), dutch_catalogue()
    missing = sorted(f"{where}: {text!r}" for text, where in used.items()
                     if not (dutch.get(text) and all(dutch[text]) if isinstance(dutch.get(text), tuple)
                             else dutch.get(text)))
    assert missing == []


def test_the_catalogue_keeps_no_texts_the_workspace_no_longer_uses():
    used, dutch = used_messages(), dutch_catalogue()
    assert sorted(set(dutch) - set(used)) == []
