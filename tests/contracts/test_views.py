from __future__ import annotations

from datetime import date

import pytest

from tests.contracts.helpers import count_queries, sign_in, tokyo

BLUEPRINTS = ("contracts", "mypage")


def test_idor_walk_every_route_with_another_members_identifiers(app, client, db_session, demo, make_contract):
    """Every route of these blueprints, with 佐藤 次郎's numbers, as 山田 太郎: 404, and
    exactly the page a number that does not exist gets (no 403, nothing to tell apart)."""
    other_numbers = ["200000000201", make_contract(demo["jiro"], "KOKUMIN_SOGO").contract_no]
    with tokyo(2026, 12, 15):
        sign_in(client, db_session, demo["taro"])
        walked = []
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] not in BLUEPRINTS:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if not rule.arguments:
                    response = client.open(rule.rule, method=method)
                    assert response.status_code == 200, rule.rule
                    assert "佐藤" not in response.text and "0201" not in response.text
                    walked.append(rule.rule)
                    continue
                missing = client.open(rule.build({a: "999999999999" for a in rule.arguments})[1], method=method)
                assert missing.status_code == 404
                for number in other_numbers:
                    url = rule.build({a: number for a in rule.arguments})[1]
                    response = client.open(url, method=method)
                    assert response.status_code == 404, url
                    # the same page (the text-size form echoes the path back, nothing else differs)
                    assert response.text.replace(number, "N") == missing.text.replace("999999999999", "N")
                    walked.append(url)
        own = client.get("/contracts/100000000101")
        assert own.status_code == 200
    assert {"/mypage", "/contracts", "/coverage", "/contracts/200000000201"} <= set(walked)


def test_contracts_page_groups_by_insured_person_and_shows_delivery(client, db_session, demo, make_contract):
    taro = demo["taro"]
    db_session.refresh(taro)
    self_ = taro.insured_persons[0]
    with tokyo(2026, 12, 15):
        upcoming = make_contract(taro, "KOKUMIN_IRYO", insured=self_, start=date(2027, 1, 1),
                                 contract_no="100000000190")
        upcoming.certificate_status, upcoming.certificate_shipped_on = "preparing", None
        make_contract(taro, "KOKUMIN_SOGO", insured=self_, start=date(2012, 4, 1), status="lapsed",
                      end_date=date(2024, 4, 1), contract_no="100000000191")
        db_session.flush()
        sign_in(client, db_session, demo["taro"])
        html = client.get("/contracts").text
    in_force, _, apart = html.partition("現在保障の対象でないご契約")
    for name in ("山田 太郎さま", "山田 花子さま", "山田 一郎さま", "山田 さくらさま"):
        assert name in in_force
    assert "********0101" in in_force and "100000000101" not in html.replace("/contracts/100000000101", "")
    assert "1,800円<span class=\"per-period\">／月</span>" in in_force
    assert "78,000円<span class=\"per-period\">／年</span>" in in_force
    assert "発送済み</span> <span class=\"nowrap\">2010年3月22日" in in_force
    assert "********0190" in apart and "********0191" in apart
    assert "********0190" not in in_force and "********0191" not in in_force
    assert "発送準備中" in apart and "開始前（2027年1月1日から）" in apart and "失効" in apart


def test_contract_page_shows_bands_history_payments_account_and_property(client, db_session, demo):
    with tokyo(2026, 11, 28):
        sign_in(client, db_session, demo["taro"])
        sogo = client.get("/contracts/100000000101").text
        sumairu = client.get("/contracts/100000000105").text
    # current band (59) and the next one from 60 on his birthday
    assert "現在（59歳）" in sogo and "60歳から" in sogo and "2026年12月15日" in sogo
    assert "400万円" in sogo and "300万円" in sogo and "1,200万円" in sogo and "1,000万円" in sogo
    assert "1,500円<span class=\"per-day\">／日</span>" in sogo
    assert "制度改定（保障内容の見直しと共済掛金の改定）" in sogo and "+200円" in sogo
    assert sogo.count('class="payment-paid"') == 12 and "2026年11月分" in sogo and "2025年11月分" not in sogo
    assert "***4567" in sogo and "1234567" not in sogo  # masked like every account number
    assert "/profile/bank-account" in sogo and "/certificates" in sogo
    assert "東京都渋谷区代々木1-2-3" in sumairu and "〒151-0053" in sumairu and "木造" in sumairu
    assert "所在地を変更" in sumairu
    assert "年齢による保障額の変更はありません" in sumairu


def test_coverage_page_totals_and_unlimited(client, db_session, demo, make_contract):
    taro = demo["taro"]
    db_session.refresh(taro)
    make_contract(taro, "KOKUMIN_SOGO", insured=taro.insured_persons[0], start=date(2012, 4, 1),
                  status="lapsed", end_date=date(2024, 4, 1), contract_no="100000000191")
    # 2026-12-14 15:30 UTC is already 15 December in Tokyo: his 60th birthday.
    with tokyo(2026, 12, 15, 0, 30):
        sign_in(client, db_session, demo["taro"])
        response = client.get("/coverage")
    html = response.text
    assert response.status_code == 200
    assert "2026年12月15日現在" in html and "60歳" in html
    taro_section = " ".join(html.split('<section class="card cover-person"')[1].split())
    assert '死亡（病気）</th> <td class="num money">300万円' in taro_section
    assert '死亡（交通事故）</th> <td class="num money">1,000万円' in taro_section
    assert '入院日額（病気）</th> <td class="num money">1,500円<span class="per-day">／日</span>' in taro_section
    assert "無制限" in taro_section
    assert "合計に含めていないご契約" in taro_section and "********0191" in taro_section
    assert "print-coverage.css" in html and 'media="print"' in html and "js/contracts.js" in html


@pytest.mark.parametrize("path", ["/contracts", "/coverage", "/contracts/100000000101"])
def test_pages_require_sign_in(client, demo, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def _member_with_contracts(make_member, make_contract, db_session, n: int):
    member = make_member(household=True)
    db_session.refresh(member)
    people = member.insured_persons
    products = ["KOKUMIN_SOGO", "KOKUMIN_IRYO", "SUMAIRU", "MYCAR", "NENKIN"]
    for i in range(n):
        code = products[i % len(products)]
        kwargs = {"coverage_kwargs": {"building_units": 100, "goods_units": 50}} if code == "SUMAIRU" else {}
        make_contract(member, code, insured=people[i % 2], start=date(2020, 4, 1), **kwargs)
    return member


@pytest.mark.parametrize("path", ["/mypage", "/coverage", "/contracts"])
def test_query_count_is_constant_for_1_10_and_50_contracts(client, make_member, make_contract,
                                                            db_session, path):
    counts = {}
    with tokyo(2026, 12, 15):
        for n in (1, 10, 50):
            member = _member_with_contracts(make_member, make_contract, db_session, n)
            sign_in(client, db_session, member)
            client.get(path)  # warm: the first request may touch the session row
            with count_queries() as log:
                response = client.get(path)
            assert response.status_code == 200
            assert response.text.count("********") >= (n if path != "/mypage" else 0)
            counts[n] = (len(log.all), len(log.page))
    assert counts[1] == counts[10] == counts[50], counts
    total, page = counts[50]
    # Sign-in bookkeeping is 1 of `total` (the session row joined to the member: the
    # user loader finds the member in the identity map); see helpers.is_sign_in_bookkeeping.
    assert total - page == 1, counts
    assert page <= 6 and total <= 7, counts
    if path in ("/coverage", "/contracts"):
        assert total == 2, counts  # sign-in and the household
