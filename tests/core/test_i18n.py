"""Every piece of UI text is translated, and the translation machinery behaves.

The first test extracts msgids from the source exactly as scripts/i18n does
(babel.cfg + the nested N_() scan), so adding a string without translating it
fails here and names the string. Fix: run scripts/i18n, translate the new
entries in src/passtrace/locale/zh_CN/LC_MESSAGES/messages.po (docs/i18n.md).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from passtrace.app import create_app
from passtrace.core import i18n
from passtrace.core.errors import Unauthorized, ValidationFailed
from passtrace.core.runtime import Runtime
from passtrace.web.errors import FIELD_MESSAGES, STATUS_MESSAGES
from passtrace.web.render import environment

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "passtrace"
BABEL_CFG = ROOT / "babel.cfg"

MsgId = str | tuple[str, ...]
PLACEHOLDER = re.compile(r"%\((\w+)\)")
CJK = re.compile(r"[\u3400-\u9fff]")
# zh_CN msgstrs that may legitimately contain no Chinese character (none yet).
# Punctuation-only templates: their Chinese is full-width punctuation, no CJK letter.
NOT_CHINESE_OK: set[str] = {"%(area)s (%(level)s)", ", ", "%(field)s:", ": ", "; ", ".",
                             "%(item)s at %(depot)s", " (%(place)s)", "%(role)s (%(name)s)"}


def _key(msgid: MsgId) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _forms(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (tuple, list)) else (string,)


def _nested_marked(keywords: dict[str, object]) -> Iterator[tuple[str, str]]:
    """Literals in N_()/keyword calls at any depth (scripts/i18n step 2).

    Babel's Python tokenizer skips calls nested inside another call, such as
    gettext(TABLE.get(key, N_("Fallback."))); the AST sees them.
    """
    names = {"N_"} | {name for name, spec in keywords.items() if spec is None}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            arg = node.args[0]
            if (name in names and isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    and arg.value):
                yield arg.value, f"{path.relative_to(SOURCE)}:{arg.lineno}"


def extract_source() -> dict[MsgId, list[str]]:
    """Extract every msgid from src/passtrace with the project's babel.cfg."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[MsgId, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        SOURCE, method_map, options_map
    ):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    keys = {_key(m) for m in found}
    for message, where in _nested_marked(options_map["**.py"]["keywords"]):
        if message not in keys:
            found.setdefault(message, []).append(where)
    return found


def load_catalog(locale: str) -> Catalog:
    path = SOURCE / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.fixture(scope="module")
def extracted() -> dict[MsgId, list[str]]:
    return extract_source()


@pytest.fixture(scope="module")
def zh() -> Catalog:
    return load_catalog("zh_CN")


@pytest.fixture
def locale_reset() -> Iterator[None]:
    before = i18n.get_locale()
    yield
    i18n.set_locale(before)


# (a) nothing in the code is left untranslated ------------------------------------------


def test_extraction_sees_every_kind_of_marked_string(extracted: dict[MsgId, list[str]]) -> None:
    keys = {_key(m) for m in extracted}
    expected = {
        "Log in",  # template _()
        "Wrong username or password.",  # Unauthorized(...) first argument
        "An ID number has 18 characters.",  # InvalidValue(...)
        "Commute to work",  # lazy_gettext(...)
        "This field is required.",  # N_() in FIELD_MESSAGES
        "Page not found.",  # N_() in STATUS_MESSAGES
        "The end of the validity window must be after its start.",  # fields[...] = N_()
        "This value is not valid.",  # N_() nested in gettext(FIELD_MESSAGES.get(...))
    }
    assert expected <= keys, sorted(expected - keys)
    assert not {m for m in keys if m in {"not_printable", "csrf", "id_number"}}, \
        "keyword arguments leaked into the msgids"


def test_every_msgid_in_the_code_is_translated_in_zh_CN(
    extracted: dict[MsgId, list[str]], zh: Catalog
) -> None:
    problems = []
    for msgid, where in extracted.items():
        message = zh.get(_key(msgid))
        label = f"{_key(msgid)!r} ({', '.join(where[:3])})"
        if message is None:
            problems.append(f"missing from zh_CN messages.po: {label}")
        elif message.fuzzy:
            problems.append(f"marked fuzzy (check it, then remove the flag): {label}")
        elif not all(_forms(message)):
            problems.append(f"not translated: {label}")
        elif isinstance(msgid, tuple) and not message.pluralizable:
            problems.append(f"used with ngettext but not a plural entry: {label}")
    assert not problems, (
        "Run scripts/i18n, then translate these in "
        "src/passtrace/locale/zh_CN/LC_MESSAGES/messages.po:\n  " + "\n  ".join(problems)
    )


def test_zh_CN_translations_are_chinese(zh: Catalog) -> None:
    # Catches msgstr copied from the msgid just to make the test above pass.
    untranslated = [m.id for m in zh if m.id and any(f and not CJK.search(f) for f in _forms(m))
                    and _key(m.id) not in NOT_CHINESE_OK]
    assert not untranslated, untranslated


# Supplies speak one word per thing. A depot (any place stock is kept) is 库点, the word
# of most depot strings and of the opening-stock column 库点编码; 仓库 is kept for the
# city and district warehouses, a kind of depot that allocates. A supplies request is
# 申领 (requisitioning goods); 申请 is the passes' word (applying for permission), so an
# official who handles both tells them apart. docs/i18n.md, "Terms".
SUPPLIES_WORDS = re.compile(r"depot|warehouse|suppl", re.IGNORECASE)
NOT_SUPPLIES_WORDS = ("物资点", "储备点", "物资仓库", "本点", "申请")


def _supplies_msgids(extracted: dict[MsgId, list[str]]) -> set[str]:
    """Msgids written in the supplies domain or its templates, or naming depots/supplies."""
    return {_key(m) for m, where in extracted.items()
            if any(w.startswith(("supplies/", "web/templates/supplies/")) for w in where)
            or SUPPLIES_WORDS.search(_key(m))}


def test_supplies_strings_use_one_word_for_depot_and_for_request(
    extracted: dict[MsgId, list[str]], zh: Catalog
) -> None:
    keys = _supplies_msgids(extracted)
    assert {"Depots", "Request supplies", "Warehouse"} <= keys  # the scope is not empty
    wrong = []
    for key in sorted(keys):
        message = zh.get(key)
        if message is None:
            continue
        text = " ".join(_forms(message))
        if any(word in text for word in NOT_SUPPLIES_WORDS) or (
                "仓库" in text and "warehouse" not in key.lower()):
            wrong.append((key, text))
    assert not wrong, wrong


# (b) placeholders survive translation ----------------------------------------------------


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_translations_keep_the_placeholders(locale: str) -> None:
    problems = []
    for message in load_catalog(locale):
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        dummy = dict.fromkeys(wanted, 1)
        for form in _forms(message):
            if not form:
                continue  # falls back to the msgid
            if set(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"{ids[0]!r} -> {form!r}: placeholders differ")
                continue
            try:
                ids[-1] % dummy
            except (TypeError, ValueError, KeyError):
                continue  # the msgid is not a format string either
            try:
                form % dummy
            except (TypeError, ValueError, KeyError) as exc:
                problems.append(f"{ids[0]!r} -> {form!r}: {exc}")
    assert not problems, "\n".join(problems)


# plural entries work in both languages ---------------------------------------------------


@pytest.mark.parametrize(("locale", "nplurals"), [("zh_CN", 1), ("en", 2)])
def test_plural_entries_never_translate_to_nothing(locale: str, nplurals: int) -> None:
    catalog = load_catalog(locale)
    assert catalog.num_plurals == nplurals
    translations = i18n.translations(locale)
    for message in catalog:
        if message.id and message.pluralizable:
            singular, plural = message.id[0], message.id[1]
            for n in (0, 1, 2, 5):
                assert translations.ngettext(singular, plural, n), (locale, singular, n)


# (c) the languages really differ, and the locale is chosen right -------------------------


def test_zh_CN_and_en_differ(locale_reset: None) -> None:
    i18n.set_locale("zh_CN")
    assert i18n.gettext("Log in") == "登录"
    assert str(i18n.lazy_gettext("Commute to work")) == "上下班通勤"
    assert Unauthorized("Wrong username or password.").translated() == "用户名或密码错误。"
    assert i18n.gettext(FIELD_MESSAGES["missing"]) == "此项为必填项。"
    assert i18n.gettext(STATUS_MESSAGES[404]) == "页面不存在。"
    err = ValidationFailed("A pass may be valid for at most %(days)s days.", days=30,
                           fields={"valid_until": "A pass may be valid for at most %(days)s days."})
    assert err.translated() == "通行证有效期最长为 30 天。"
    assert err.translated_fields() == {"valid_until": "通行证有效期最长为 30 天。"}
    assert environment().from_string('{{ _("Hello, %(name)s", name="张三") }}').render() \
        == "您好，张三"

    i18n.set_locale("en")
    assert i18n.gettext("Log in") == "Log in"
    assert str(i18n.lazy_gettext("Commute to work")) == "Commute to work"
    assert err.translated_fields() == {"valid_until": "A pass may be valid for at most 30 days."}
    assert environment().from_string('{{ _("Hello, %(name)s", name="Li") }}').render() \
        == "Hello, Li"
    assert environment().from_string(
        "{{ ngettext('%(num)s pass', '%(num)s passes', 3) }}").render() == "3 passes"
    assert i18n.ngettext("%(num)s pass", "%(num)s passes", 1) == "1 pass"


def test_set_locale_accepts_only_known_locales(locale_reset: None) -> None:
    i18n.set_locale("en")
    assert i18n.get_locale() == "en"
    i18n.set_locale("fr")
    assert i18n.get_locale() == "zh_CN"
    i18n.set_locale("zh_CN")
    assert i18n.get_locale() == "zh_CN"


@pytest.mark.parametrize(("accept_language", "expected"), [
    ("en-US,en;q=0.9", "en"),
    ("en", "en"),
    ("zh-CN", "zh_CN"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    ("zh-TW", "zh_CN"),
    ("fr-FR,en;q=0.8", "en"),
    ("!!garbage;;q=x,,", "zh_CN"),
    ("", "zh_CN"),
    (None, "zh_CN"),
])
def test_negotiate_reads_accept_language(accept_language: str | None, expected: str) -> None:
    assert i18n.negotiate(user_locale=None, cookie=None,
                          accept_language=accept_language) == expected


def test_negotiate_prefers_the_user_then_the_cookie() -> None:
    assert i18n.negotiate(user_locale="en", cookie="zh_CN", accept_language="zh-CN") == "en"
    assert i18n.negotiate(user_locale=None, cookie="en", accept_language="zh-CN") == "en"
    assert i18n.negotiate(user_locale="xx", cookie="de", accept_language="en") == "en"


@pytest.mark.parametrize(("cookie", "accept_language", "expected"), [
    (None, None, "en"),  # nothing decides: the deployment's default
    (None, "fr-FR", "en"),
    (None, "zh-CN", "zh_CN"),  # the browser decides before the default
    ("zh_CN", "en", "zh_CN"),  # the cookie decides before both
])
def test_negotiate_falls_back_to_the_deployments_default(
        cookie: str | None, accept_language: str | None, expected: str) -> None:
    assert i18n.negotiate(user_locale=None, cookie=cookie, accept_language=accept_language,
                          default="en") == expected


def test_default_locale_setting_picks_the_language_of_a_page(rt: Runtime) -> None:
    """PASSTRACE_DEFAULT_LOCALE=en: a visitor whose browser says nothing reads English."""
    rt.settings = rt.settings.model_copy(update={"default_locale": "en"})
    with TestClient(create_app(runtime=rt)) as client:
        english = client.get("/login")
        chinese = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "<h1>Log in</h1>" in english.text
    assert "<h1>登录</h1>" in chinese.text


def test_without_the_setting_a_page_is_in_chinese(rt: Runtime) -> None:
    with TestClient(create_app(runtime=rt)) as client:
        assert "<h1>登录</h1>" in client.get("/login").text


# ASCII punctuation between two CJK characters (optionally with spaces): Chinese sentences
# take full-width ，：；（）？！ ("请重试,稍后" should read "请重试，稍后").
_CJK = r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]"
ASCII_PUNCT_IN_CJK = re.compile(_CJK + r" ?[,:;?!)](?!\d)|\( ?" + _CJK + "|" + _CJK + r" ?\(")


def test_chinese_sentences_use_chinese_punctuation(zh: Catalog) -> None:
    offenders = [(message.id, text) for message in zh if message.id
                 for text in _forms(message) if ASCII_PUNCT_IN_CJK.search(text)]
    assert offenders == []


def test_the_punctuation_check_catches_ascii_between_chinese() -> None:
    assert ASCII_PUNCT_IN_CJK.search("请重试,稍后")
    assert ASCII_PUNCT_IN_CJK.search("风险(中)")
    assert ASCII_PUNCT_IN_CJK.search("原因: 无")
    assert ASCII_PUNCT_IN_CJK.search("请按 时:分 输入")
    assert ASCII_PUNCT_IN_CJK.search("原因:%(reason)s")
    assert not ASCII_PUNCT_IN_CJK.search("请重试，稍后（%(n)d 次）")
    assert not ASCII_PUNCT_IN_CJK.search("36.8 °C, 贵A12345")


# (e) 姓名 is a person's name: places and organisations have a 名称 (issue 12) -----------

ORGANISATION_NAME = re.compile(
    r"\b(enterprise|compound|site|community|department|depot|device|registered)('s)? names?\b",
    re.IGNORECASE)


def test_names_of_places_and_organisations_are_never_translated_as_a_persons_name(
    zh: Catalog,
) -> None:
    wrong = [(m.id, _forms(m)) for m in zh
             if m.id and ORGANISATION_NAME.search(_key(m.id))
             and any("姓名" in f for f in _forms(m))]
    assert not wrong, wrong
    # The pattern does match the labels it guards.
    assert {"Site name", "Enterprise name", "Compound name", "Department name",
            "Registered name"} <= {_key(m.id) for m in zh
                                   if m.id and ORGANISATION_NAME.search(_key(m.id))}


def test_the_name_column_of_a_site_sheet_is_not_a_persons_name(zh: Catalog) -> None:
    from passtrace.sites.present import IMPORT_COLUMN_LABELS

    label = zh.get(IMPORT_COLUMN_LABELS["name"])
    assert label is not None and "名称" in label.string and "姓名" not in label.string
