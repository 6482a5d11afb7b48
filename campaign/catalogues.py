"""gettext catalogues kept as .po files (what translators edit), compiled in memory on first use,
so no binary .mo file lives in the repository. Shared by the preview and the web workspace."""
from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=None)
def compiled(po_file: Path, domain: str = "messages"):
    """A gettext translations object from a .po file (a missing file translates nothing)."""
    import gettext
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    if not po_file.is_file():
        return gettext.NullTranslations()
    with po_file.open("rb") as handle:
        messages = read_po(handle, domain=domain)
    binary = io.BytesIO()
    write_mo(binary, messages)
    binary.seek(0)
    return Translations(binary, domain=domain)
