"""The portal speaks Simplified Chinese by default and English second.

The catalogues in locale/ must be complete (no empty and no fuzzy entries), keep every
placeholder of the English source, and ship compiled .mo files that match the .po files,
because a fresh machine may have no gettext tools to compile them. After editing a .po
file run ``python manage.py compilemessages``; ``python tools/po_check.py`` gives the same
report as these tests from the command line.
"""

import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGS = ["zh_Hans", "en"]
PLURAL_FORMS = {"zh_Hans": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}

# %(name)s, %d, %s ... ; the escaped %% (a literal percent sign) is removed before matching.
PERCENT_RE = re.compile(r"%(?:\([^)]+\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACE_RE = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)(?:[!:][^{}]*)?\}(?!\})")
TEMPLATE_VAR_RE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"


def load_po(lang: str) -> polib.POFile:
    path = po_path(lang)
    assert path.exists(), f"{path} is missing; run manage.py makemessages -l {lang}"
    return polib.pofile(str(path))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str, flags: list[str]) -> Counter:
    found: Counter = Counter()
    if "python-format" in flags:
        found.update(PERCENT_RE.findall(text.replace("%%", "")))
    if "python-brace-format" in flags:
        found.update("{" + name + "}" for name in BRACE_RE.findall(text))
    found.update("{{" + name + "}}" for name in TEMPLATE_VAR_RE.findall(text))
    return found


def where(entry: polib.POEntry) -> str:
    return "{}:{}".format(*entry.occurrences[0]) if entry.occurrences else "?"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_header(lang):
    po = load_po(lang)
    assert not po.metadata_is_fuzzy, f"{lang}: the header is marked fuzzy, msgfmt would drop it"
    assert po.metadata.get("Plural-Forms", "").strip() == PLURAL_FORMS[lang]
    assert "charset=UTF-8" in po.metadata.get("Content-Type", "")
    assert len(live_entries(po)) > 100, "the catalogue looks empty: was makemessages run?"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_has_no_untranslated_entries(lang):
    po = load_po(lang)
    untranslated = [f"{where(e)} {e.msgid!r}" for e in live_entries(po) if not all(translations(e))]
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_has_no_fuzzy_entries(lang):
    po = load_po(lang)
    fuzzy = [f"{where(e)} {e.msgid!r}" for e in live_entries(po) if "fuzzy" in e.flags]
    assert not fuzzy, f"{lang}: {len(fuzzy)} fuzzy (check the translation, then remove the flag):\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("lang", LANGS)
def test_plural_entries_have_every_form(lang):
    nplurals = int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[lang]).group(1))
    po = load_po(lang)
    for entry in live_entries(po):
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == list(range(nplurals)), f"{lang} {where(entry)} {entry.msgid!r}"


def test_chinese_placeholders_match_the_source():
    po = load_po("zh_Hans")
    wrong = []
    for entry in live_entries(po):
        want = placeholders(entry.msgid_plural or entry.msgid, entry.flags)
        for text in translations(entry):
            got = placeholders(text, entry.flags)
            if set(got) != set(want):
                wrong.append(f"{where(entry)} {entry.msgid!r}: {sorted(got)} != {sorted(want)}")
            # A literal "%" in {% translate %} text is "%%" in the catalogue and must stay escaped.
            if (
                "python-format" in entry.flags
                and "%" in text.replace("%%", "")
                and not PERCENT_RE.search(text.replace("%%", ""))
            ):
                wrong.append(f"{where(entry)} {entry.msgid!r}: unescaped % in {text!r}")
    assert not wrong, "\n".join(wrong)


def test_chinese_catalogue_is_chinese():
    """Guards against a catalogue filled by copying msgid: most entries must contain CJK."""
    po = load_po("zh_Hans")
    entries = live_entries(po)
    cjk = [e for e in entries if any("\u4e00" <= ch <= "\u9fff" for t in translations(e) for ch in t)]
    assert len(cjk) >= 0.9 * len(entries)


def test_english_catalogue_repeats_the_source():
    po = load_po("en")
    for entry in live_entries(po):
        if entry.msgid_plural:
            assert entry.msgstr_plural == {0: entry.msgid, 1: entry.msgid_plural}, where(entry)
        else:
            assert entry.msgstr == entry.msgid, where(entry)


@pytest.mark.parametrize("lang", LANGS)
def test_mo_file_is_up_to_date(lang):
    po = load_po(lang)
    mo_path = po_path(lang).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing; run manage.py compilemessages"
    mo = polib.mofile(str(mo_path))
    want = {(e.msgctxt, e.msgid): translations(e) for e in po.translated_entries()}
    got = {(e.msgctxt, e.msgid): translations(e) for e in mo if e.msgid}
    stale = sorted(k[1] for k in set(want) ^ set(got)) + sorted(k[1] for k in set(want) & set(got) if want[k] != got[k])
    assert not stale, f"{lang}: django.mo differs from django.po; run manage.py compilemessages: {stale[:10]}"


def test_gettext_uses_the_catalogues():
    with translation.override("zh-hans"):
        assert translation.gettext("Sign in") == "登录"
        assert translation.gettext("Luoyang Youth Talent Portal") == "洛阳青年人才服务平台"
        assert translation.ngettext("%(n)s unread message", "%(n)s unread messages", 3) % {"n": 3} == "3条未读消息"
    with translation.override("en"):
        assert translation.gettext("Sign in") == "Sign in"
        assert (
            translation.ngettext("%(n)s unread message", "%(n)s unread messages", 3) % {"n": 3} == "3 unread messages"
        )


@pytest.mark.django_db
def test_home_page_is_chinese_by_default(client):
    response = client.get(reverse("portal:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    assert "洛阳青年人才服务平台" in html
    assert "青年驿站" in html
    assert "登录" in html and "注册" in html
    # "40%" in a {% translate %} string is "40%%" in the catalogue; the page shows one sign.
    assert "40%" in html and "%%" not in html
    assert "Luoyang Youth Talent Portal" not in html


@pytest.mark.django_db
def test_home_page_in_english_on_request(client):
    response = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Luoyang Youth Talent Portal" in html
    assert "洛阳青年人才服务平台" not in html


@pytest.mark.django_db
def test_signup_page_uses_allauth_chinese(client):
    response = client.get(reverse("account_signup"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    assert "注册" in html
    assert "密码" in html  # allauth's own zh_Hans catalogue: "Password"
    assert "Sign Up" not in html and "Password" not in html


@pytest.mark.django_db
def test_profile_page_is_chinese(client, graduate_a):
    client.force_login(graduate_a)
    html = client.get(reverse("portal:profile")).content.decode()
    assert "个人资料" in html
    assert "资料完整度" in html
    assert "居民身份证号码" in html or "身份证号码" in html
