"""The password policy refuses the co-op's own name and the site's words, however
they are written (全角, upper case, separated)."""
from __future__ import annotations

import pytest

from portal.auth.services import password_problem
from tests.auth.conftest import identity


@pytest.mark.parametrize("password", [
    "Mirai-Kyosai-2026", "ＭＩＲＡＩ２０２６ｘｙｚ", "my-page-password9", "みらい共済のパスワード", "Seikyo-Tokyo-77",
    "kokumin.kyosai.1", "マイページ大好き２０２６",
])
def test_site_words_are_refused(password, make_member):
    problem = password_problem(password, make_member())
    assert problem and "共済生協の名前やサイト名" in problem


@pytest.mark.parametrize("password", ["Kotoba-no-mori-77", "Sora-no-iro-2027", "Demo-pass-2026"])
def test_ordinary_passwords_pass(password, make_member):
    assert password_problem(password, make_member()) is None


def test_signup_refuses_a_site_word_next_to_the_field(client, outbox, newcomer, leak_guard):
    member = newcomer()
    leak_guard.add("Mirai-Kyosai-2026")
    client.post("/signup", data=identity(member))
    client.post("/signup/code", data={"code": outbox.code(member.phone)})
    response = client.post("/signup/credentials", data={"password": "Mirai-Kyosai-2026",
                                                        "password_confirm": "Mirai-Kyosai-2026"})
    assert response.status_code == 200 and "共済生協の名前やサイト名" in response.text
