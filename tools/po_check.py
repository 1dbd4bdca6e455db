"""Check (and, for English, fill) the gettext catalogues in locale/.

    python tools/po_check.py            # report problems, exit 1 if any
    python tools/po_check.py --fill-en  # first copy msgid to msgstr in the English catalogue
    python tools/po_check.py --fix-headers  # first replace makemessages' placeholder header values

Checks every locale/<lang>/LC_MESSAGES/django.po: header (Language, Plural-Forms, not
fuzzy), no untranslated or fuzzy entries, placeholders of msgstr equal to those of msgid
(python-format, python-brace-format, template {{ var }}), and the compiled .mo matching the
.po. The same checks run in tests/portal/test_translations.py.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import UTC
from pathlib import Path

import polib

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"

PLURAL_FORMS = {
    "zh_Hans": "nplurals=1; plural=0;",
    "en": "nplurals=2; plural=(n != 1);",
}

# %(name)s, %d, %s ... but not the escaped %% (a literal percent sign).
PERCENT_RE = re.compile(r"%(?:\((?P<name>[^)]+)\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACE_RE = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:[!:][^{}]*)?\}(?!\})")
TEMPLATE_VAR_RE = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][\w.]*)\s*\}\}")


def placeholders(text: str, flags: list[str]) -> Counter:
    found: Counter = Counter()
    if "python-format" in flags:
        stripped = text.replace("%%", "")
        found.update(m.group(0) for m in PERCENT_RE.finditer(stripped))
    if "python-brace-format" in flags:
        found.update("{" + m.group("name") + "}" for m in BRACE_RE.finditer(text))
    found.update("{{" + m.group("name") + "}}" for m in TEMPLATE_VAR_RE.finditer(text))
    return found


def percent_signs(text: str) -> int:
    return text.count("%%")


def catalogues() -> dict[str, Path]:
    return {p.parent.parent.name: p for p in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))}


def entry_key(entry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def entry_translations(entry) -> tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def check_po(lang: str, path: Path) -> list[str]:
    problems: list[str] = []
    po = polib.pofile(str(path))
    expected_plural = PLURAL_FORMS.get(lang)
    if expected_plural and po.metadata.get("Plural-Forms", "").strip() != expected_plural:
        problems.append(
            f"{lang}: header Plural-Forms is {po.metadata.get('Plural-Forms')!r}, expected {expected_plural!r}"
        )
    if po.metadata_is_fuzzy:
        problems.append(f"{lang}: the header is marked fuzzy")
    for entry in po:
        if entry.obsolete:
            continue
        where = f"{lang}: {entry.occurrences[0][0]}:{entry.occurrences[0][1]}" if entry.occurrences else lang
        if "fuzzy" in entry.flags:
            problems.append(f"{where}: fuzzy: {entry.msgid!r}")
        translations = entry_translations(entry)
        if not translations or any(not t for t in translations):
            problems.append(f"{where}: untranslated: {entry.msgid!r}")
            continue
        sources = [entry.msgid] if not entry.msgid_plural else [entry.msgid, entry.msgid_plural]
        want = placeholders(sources[-1], entry.flags)
        for text in translations:
            got = placeholders(text, entry.flags)
            if set(got) != set(want):
                problems.append(f"{where}: placeholders {sorted(got)} != {sorted(want)} in {entry.msgid!r}")
            if "python-format" in entry.flags and percent_signs(sources[0]) and not percent_signs(text):
                problems.append(f"{where}: msgid has an escaped %% that the translation lacks: {entry.msgid!r}")
            if (
                "python-format" in entry.flags
                and "%" in text.replace("%%", "")
                and not PERCENT_RE.search(text.replace("%%", ""))
            ):
                problems.append(f"{where}: stray % in a python-format translation: {text!r}")
    return problems


def check_mo(lang: str, path: Path) -> list[str]:
    mo_path = path.with_suffix(".mo")
    if not mo_path.exists():
        return [f"{lang}: {mo_path.relative_to(BASE_DIR)} is missing; run manage.py compilemessages"]
    po = polib.pofile(str(path))
    mo = polib.mofile(str(mo_path))
    want = {entry_key(e): entry_translations(e) for e in po.translated_entries()}
    got = {entry_key(e): entry_translations(e) for e in mo if e.msgid}
    if want != got:
        missing = sorted(k[1] for k in set(want) - set(got))[:5]
        extra = sorted(k[1] for k in set(got) - set(want))[:5]
        changed = sorted(k[1] for k in set(want) & set(got) if want[k] != got[k])[:5]
        return [
            f"{lang}: .mo is out of date (missing {missing}, extra {extra}, changed {changed}); run compilemessages"
        ]
    return []


HEADER_COMMENT = (
    "Luoyang youth talent portal: {language} translations.\n"
    "This file is distributed under the same license as the luoyang-youth-portal package."
)
LANGUAGE_TEAMS = {"zh_Hans": "Simplified Chinese", "en": "English"}


def normalise_header(po: polib.POFile, lang: str) -> None:
    """Replace makemessages' template header values, which msgfmt --check warns about."""
    from datetime import datetime

    po.header = HEADER_COMMENT.format(language=LANGUAGE_TEAMS.get(lang, lang))
    po.metadata["Project-Id-Version"] = "luoyang-youth-portal"
    po.metadata["Last-Translator"] = "Luoyang youth talent portal"
    po.metadata["Language-Team"] = LANGUAGE_TEAMS.get(lang, lang)
    po.metadata["Language"] = lang
    if "YEAR" in po.metadata.get("PO-Revision-Date", "YEAR"):
        po.metadata["PO-Revision-Date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M+0000")
    if lang in PLURAL_FORMS:
        po.metadata["Plural-Forms"] = PLURAL_FORMS[lang]
    po.metadata_is_fuzzy = []


def fix_headers() -> None:
    for lang, path in catalogues().items():
        po = polib.pofile(str(path))
        normalise_header(po, lang)
        po.save()


def fill_en(path: Path) -> int:
    po = polib.pofile(str(path))
    changed = 0
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            wanted = {0: entry.msgid, 1: entry.msgid_plural}
            if entry.msgstr_plural != wanted:
                entry.msgstr_plural = wanted
                changed += 1
        elif entry.msgstr != entry.msgid:
            entry.msgstr = entry.msgid
            changed += 1
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            changed += 1
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    normalise_header(po, "en")
    po.save()
    return changed


def main(argv: list[str]) -> int:
    cats = catalogues()
    if "--fill-en" in argv and "en" in cats:
        print(f"en: {fill_en(cats['en'])} entries filled")
    if "--fix-headers" in argv:
        fix_headers()
    problems: list[str] = []
    for lang, path in cats.items():
        problems += check_po(lang, path)
        if "--no-mo" not in argv:
            problems += check_mo(lang, path)
    for p in problems:
        print(p)
    counts = {lang: len([e for e in polib.pofile(str(p)) if not e.obsolete]) for lang, p in cats.items()}
    print(f"{len(problems)} problem(s); entries: {counts}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
