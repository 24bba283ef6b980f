"""The form layer's helper: a failed save is undone, the page gets what it needs to show
itself again (values, translated errors, the right status)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from passtrace.areas.models import Area
from passtrace.core.errors import Conflict
from passtrace.core.i18n import set_locale
from passtrace.web import forms


class _In(BaseModel):
    code: str = Field(min_length=6, max_length=12)
    level: str


class _Form(BaseModel):
    code: str = ""
    level: str = ""

    def parse(self) -> _In:
        return _In.model_validate(self.model_dump())


def _area(code: str) -> Area:
    return Area(code=code, name_zh="测试区", name_en="Test", level="district",
                parent_code="520100")


def _count(session, code: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Area).where(Area.code == code))


@pytest.fixture(autouse=True)
def chinese():  # type: ignore[no-untyped-def]
    set_locale("zh_CN")
    yield
    set_locale("zh_CN")


def test_invalid_input_comes_back_translated_with_the_typed_values(session):
    failure = forms.submit(session, _Form(code="52", level="district"),
                           lambda data: pytest.fail("saved invalid input"), lambda f: f)
    assert failure.status == 422
    assert failure.values == {"code": "52", "level": "district"}
    assert failure.errors == {"code": "内容过短。"}  # never pydantic's English text
    assert failure.message == "部分填写内容有误，请检查。"


def test_a_domain_error_undoes_the_attempt_but_not_what_came_before(session):
    session.add(_area("529901"))  # done by the request before the form's save
    session.flush()

    def save(data: _In) -> None:
        session.add(_area(data.code))
        session.flush()
        raise Conflict("There is already a department called %(name)s.", name="生产部")

    failure = forms.submit(session, _Form(code="529902", level="district"), save, lambda f: f)
    assert failure.status == 409 and failure.values["code"] == "529902"
    assert failure.message == "已有名为 生产部 的部门。"  # translated
    assert _count(session, "529902") == 0  # the attempt left nothing behind
    assert _count(session, "529901") == 1  # what came before it stays


def test_a_clash_on_a_unique_key_is_a_409_and_the_session_stays_usable(session):
    session.add(_area("529903"))
    session.flush()

    def save(data: _In) -> None:
        session.add(_area(data.code))
        session.flush()  # the same primary key: IntegrityError

    failure = forms.submit(session, _Form(code="529903", level="district"), save, lambda f: f)
    assert failure.status == 409 and failure.values["code"] == "529903"
    assert failure.errors_or_message == {"form": failure.message}
    # PostgreSQL aborts a transaction on an error; the SAVEPOINT rollback recovers it.
    assert _count(session, "529903") == 1


def test_a_successful_save_is_kept_and_its_answer_returned(session):
    def save(data: _In) -> str:
        session.add(_area(data.code))
        session.flush()
        return "saved"

    assert forms.submit(session, _Form(code="529904", level="district"), save,
                        lambda f: pytest.fail(str(f))) == "saved"
    assert _count(session, "529904") == 1
