"""Account, AccountUser and Company operations and models.

The request-table runner and the drift recorder it uses live in tests/support/web_cases.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import respx

from nukiasync.const import AccountUserType
from nukiasync.errors import NukiInvalidResponseError
from nukiasync.web.account import AccountMixin
from nukiasync.web.models.account import (
    Account,
    AccountConfig,
    AccountIntegration,
    AccountProfile,
    AccountSetting,
    AccountType,
    AccountUser,
    Company,
    OtpSecret,
    StaleDevice,
)
from tests.support.canary import WEB_TOKEN
from tests.support.paths import load_fixture
from tests.support.web_cases import (
    BASE,
    Call,
    Case,
    operation_calls,
    run_case,
    spec_operations,
    unmapped_keys,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping


@pytest.fixture
async def web() -> AsyncIterator[_Client]:
    async with httpx.AsyncClient() as http:
        yield _Client(WEB_TOKEN, client=http, base_url=BASE)


class _Client(AccountMixin):
    pass


# --- operations -----------------------------------------------------------------------------

ACCOUNT = load_fixture("web/account.json")
USERS = load_fixture("web/account_users.json")
SUBS = load_fixture("web/sub_accounts.json")
PROFILE = AccountProfile(first_name="Alice", last_name="Example", city="Graz", country="AT")
CONFIG = AccountConfig(alexa_pin="1234", gactions_home_pin="5678")


def _is_account(result: Any) -> None:
    assert isinstance(result, Account)
    assert result.account_id == 412345


def _is_user(result: Any) -> None:
    assert isinstance(result, AccountUser)
    assert result.account_user_id == 123456


def _subs(result: Any) -> None:
    assert [account.account_id for account in result] == [412346, 412347]


CASES = [
    Case("account", ("GET", "/account"), lambda w: w.account(), "/account",
         status=200, response=ACCOUNT, check=_is_account),
    Case("update_account", ("POST", "/account"),
         lambda w: w.update_account(language="en", name="Alice", password="pw-1234567",
                                    config=CONFIG, profile=PROFILE, delete_api_tokens=False),
         "/account", params={"deleteApiTokens": "false"},
         body={"language": "en", "name": "Alice", "password": "pw-1234567",
               "config": {"alexaPin": "1234", "gactionsHomePin": "5678"},
               "profile": {"firstName": "Alice", "lastName": "Example", "city": "Graz",
                           "country": "AT"}}),
    Case("update_account_minimal", ("POST", "/account"),
         lambda w: w.update_account(language="de", email="new@example.com"), "/account",
         body={"language": "de", "email": "new@example.com"}),
    Case("delete_account", ("DELETE", "/account"), lambda w: w.delete_account(), "/account"),
    Case("change_account_email", ("POST", "/account/email/change"),
         lambda w: w.change_account_email(email="new@example.com"), "/account/email/change",
         body={"email": "new@example.com"}),
    Case("verify_account_email", ("POST", "/account/email/verify"),
         lambda w: w.verify_account_email(), "/account/email/verify"),
    Case("account_integrations", ("GET", "/account/integration"),
         lambda w: w.account_integrations(), "/account/integration", status=200,
         response=load_fixture("web/account_integrations.json"),
         check=lambda r: [i.client_id for i in r] == ["nuki-web-legacy", "a1b2c3d4"]),
    Case("delete_account_integration", ("DELETE", "/account/integration"),
         lambda w: w.delete_account_integration(api_key_id=2201, token_id="17"),
         "/account/integration", params={"apiKeyId": "2201", "tokenId": "17"}),
    Case("delete_account_integration_key", ("DELETE", "/account/integration"),
         lambda w: w.delete_account_integration(api_key_id=2201),
         "/account/integration", params={"apiKeyId": "2201"}),
    Case("disable_account_otp", ("DELETE", "/account/otp"),
         lambda w: w.disable_account_otp(), "/account/otp"),
    Case("enable_account_otp", ("POST", "/account/otp"),
         lambda w: w.enable_account_otp(otp="123456"), "/account/otp", body={"otp": "123456"}),
    Case("create_account_otp_secret", ("PUT", "/account/otp"),
         lambda w: w.create_account_otp_secret(), "/account/otp", status=200,
         response="JBSWY3DPEHPK3PXP",
         check=lambda r: isinstance(r, OtpSecret) and r.secret == "JBSWY3DPEHPK3PXP"),
    Case("reset_account_password", ("POST", "/account/password/reset"),
         lambda w: w.reset_account_password(email="alice@example.com", delete_api_tokens=True),
         "/account/password/reset", body={"email": "alice@example.com", "deleteApiTokens": True}),
    Case("delete_account_setting", ("DELETE", "/account/setting"),
         lambda w: w.delete_account_setting(), "/account/setting"),
    Case("account_setting", ("GET", "/account/setting"), lambda w: w.account_setting(),
         "/account/setting", status=200, response=load_fixture("web/account_setting.json"),
         check=lambda r: isinstance(r, AccountSetting)),
    Case("update_account_setting", ("PUT", "/account/setting"),
         lambda w: w.update_account_setting(
             device_sort_type="NAME_DESC", device_view_type="LIST", nuki_club_dismissed=False,
             marked_staled_devices=[StaleDevice(smartlock_id=5, read=True)],
             removed_staled_devices=[]),
         "/account/setting",
         body={"web": {"deviceSortType": "NAME_DESC", "deviceViewType": "LIST",
                       "nukiClubDismissed": False,
                       "markedStaledDevices": [{"smartlockId": 5, "read": True}],
                       "removedStaledDevices": []}},
         status=200, response={"web": {"deviceSortType": "NAME_DESC"}},
         check=lambda r: r.device_sort_type == "NAME_DESC"),
    Case("update_account_setting_empty", ("PUT", "/account/setting"),
         lambda w: w.update_account_setting(), "/account/setting", body={"web": {}},
         status=200, response={},
         check=lambda r: r == AccountSetting()),
    Case("sub_accounts", ("GET", "/account/sub"),
         lambda w: w.sub_accounts(email="^carol"), "/account/sub", params={"email": "^carol"},
         status=200, response=SUBS, check=_subs),
    Case("sub_accounts_single_object", ("GET", "/account/sub"), lambda w: w.sub_accounts(),
         "/account/sub", status=200, response=SUBS[0],
         check=lambda r: [a.account_id for a in r] == [412346]),
    Case("create_sub_account", ("PUT", "/account/sub"),
         lambda w: w.create_sub_account(email="carol@example.com", name="Carol",
                                        password="pw-1234567", language="en", rights=9,
                                        profile=AccountProfile(country="AT")),
         "/account/sub",
         body={"email": "carol@example.com", "name": "Carol", "password": "pw-1234567",
               "language": "en", "rights": 9, "profile": {"country": "AT"}},
         status=200, response=SUBS[0],
         check=lambda r: r.account_id == 412346),
    Case("delete_sub_account", ("DELETE", "/account/sub/{accountId}"),
         lambda w: w.delete_sub_account(412346), "/account/sub/412346"),
    Case("sub_account", ("GET", "/account/sub/{accountId}"), lambda w: w.sub_account(412346),
         "/account/sub/412346", status=200, response=SUBS[0],
         check=lambda r: r.master_account_id == 412345),
    Case("update_sub_account", ("POST", "/account/sub/{accountId}"),
         lambda w: w.update_sub_account(412346, language="de", rights=1, email="c@example.com",
                                        name="C", password="pw-7654321", config=CONFIG,
                                        profile=AccountProfile()),
         "/account/sub/412346",
         body={"language": "de", "rights": 1, "email": "c@example.com", "name": "C",
               "password": "pw-7654321",
               "config": {"alexaPin": "1234", "gactionsHomePin": "5678"}, "profile": {}}),
    Case("account_users", ("GET", "/account/user"),
         lambda w: w.account_users(email="alice@example.com", offset=0, limit=50),
         "/account/user", params={"email": "alice@example.com", "offset": "0", "limit": "50"},
         status=200, response=USERS,
         check=lambda r: [u.account_user_id for u in r] == [123456, 123457]),
    Case("account_users_plain", ("GET", "/account/user"), lambda w: w.account_users(),
         "/account/user", status=200, response=[], check=lambda r: r == []),
    Case("create_account_user", ("PUT", "/account/user"),
         lambda w: w.create_account_user(email="bob@example.com", name="Bob", language="en",
                                         type=AccountUserType.COMPANY),
         "/account/user",
         body={"email": "bob@example.com", "name": "Bob", "language": "en", "type": 1},
         status=200, response=USERS[0], check=_is_user),
    Case("create_account_user_minimal", ("PUT", "/account/user"),
         lambda w: w.create_account_user(email="bob@example.com", name="Bob"), "/account/user",
         body={"email": "bob@example.com", "name": "Bob"}, status=200, response=USERS[0],
         check=_is_user),
    Case("delete_account_user", ("DELETE", "/account/user/{accountUserId}"),
         lambda w: w.delete_account_user(123456), "/account/user/123456"),
    Case("account_user", ("GET", "/account/user/{accountUserId}"),
         lambda w: w.account_user(123456), "/account/user/123456", status=200,
         response=USERS[0], check=_is_user),
    Case("update_account_user", ("POST", "/account/user/{accountUserId}"),
         lambda w: w.update_account_user(123456, email="a@example.com", name="A",
                                         language="de"),
         "/account/user/123456", body={"email": "a@example.com", "name": "A", "language": "de"},
         status=200, response=USERS[0], check=_is_user),
    Case("update_account_user_204", ("POST", "/account/user/{accountUserId}"),
         lambda w: w.update_account_user(123456, name="A"), "/account/user/123456",
         body={"name": "A"}),
    Case("companies", ("GET", "/company"), lambda w: w.companies(), "/company", status=200,
         response=load_fixture("web/companies.json"),
         check=lambda r: [c.name for c in r] == ["Example Hosting GmbH", "Second Company"]),
]  # fmt: skip

OPERATION_CALLS: list[tuple[str, str, Call]] = operation_calls(CASES)


def test_cases_cover_every_operation_of_the_tags() -> None:
    expected = spec_operations("Account", "AccountUser", "Company")
    assert len(expected) == 25
    assert {(method, path) for method, path, _ in OPERATION_CALLS} == expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_operation(web: _Client, case: Case) -> None:
    request = await run_case(web, case)
    assert request.headers["Authorization"] == f"Bearer {WEB_TOKEN}"


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.sub_account(0),
        lambda w: w.update_sub_account(-1, language="de"),
        lambda w: w.delete_sub_account(0),
        lambda w: w.account_user(0),
        lambda w: w.update_account_user(0),
        lambda w: w.delete_account_user(-5),
        lambda w: w.account_users(offset=-1),
        lambda w: w.account_users(limit=0),
        lambda w: w.delete_account_integration(),
    ],
)
async def test_bad_arguments_raise_before_any_request(web: _Client, call: Call) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with pytest.raises(ValueError, match=r"\w"):
            await call(web)
    assert not route.called


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda w: w.account(), {"accountId": None}),
        (lambda w: w.account(), []),
        (lambda w: w.account_user(1), {"name": "no id"}),
        (lambda w: w.account_setting(), "text"),
        (lambda w: w.create_account_otp_secret(), {"secret": "x"}),
        (lambda w: w.create_account_otp_secret(), ""),
    ],
)
async def test_single_object_with_bad_body_raises(web: _Client, call: Call, answer: Any) -> None:
    with respx.mock() as mock:
        mock.route().mock(return_value=httpx.Response(200, json=answer))
        with pytest.raises(NukiInvalidResponseError) as info:
            await call(web)
    assert info.value.status == 200


async def test_list_skips_a_bad_item_with_a_warning(
    web: _Client, caplog: pytest.LogCaptureFixture
) -> None:
    answer = [USERS[0], {"accountUserId": "not a number"}, "junk", USERS[1]]
    with respx.mock() as mock:
        mock.get(f"{BASE}/account/user").mock(return_value=httpx.Response(200, json=answer))
        with caplog.at_level(logging.WARNING):
            users = await web.account_users()
    assert [user.account_user_id for user in users] == [123456, 123457]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2


# --- models ---------------------------------------------------------------------------------


def test_account_model() -> None:
    account = Account.from_api(ACCOUNT)
    assert account.type is AccountType.USER
    assert account.type_code == 0
    assert account.email_verified is True
    assert account.language == "de"
    assert account.descent_origin == "APPLE"
    assert account.shs_subscription_type == "STANDARD"
    assert account.b2b_active is False
    assert account.creation_date == datetime(2021, 3, 4, 10, 11, 12, tzinfo=UTC)
    assert account.config is not None
    assert account.config.alexa_pin == "4711"
    assert account.config.otp_enabled_date == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert account.profile is not None
    assert account.profile.city == "Graz"
    assert account.api_terms_of_use is not None
    assert account.api_terms_of_use.state == "Accepted"
    assert account.secret == ("c2VjcmV0LWJ5dGVz",)
    assert account.raw["futureField"] == {"added": "by Nuki later"}
    text = repr(account)
    for personal in ("alice@example.com", "Alice Example", "4711", "0815", "Musterstrasse",
                     "Graz", "c2VjcmV0"):  # fmt: skip
        assert personal not in text
    assert "412345" in text


def test_account_unknown_type_and_sparse_object() -> None:
    accounts = [Account.from_api(item) for item in SUBS]
    assert accounts[0].type is AccountType.CARETAKER
    assert accounts[0].rights == 31
    assert accounts[1].type is AccountType.UNKNOWN
    assert accounts[1].type_code == 7
    sparse = Account.from_api({"accountId": "5"})
    assert sparse == Account(account_id=5)
    assert sparse.config is None
    assert sparse.creation_date is None


def test_account_user_model() -> None:
    users = [AccountUser.from_api(item) for item in USERS]
    assert users[0].type is AccountUserType.USER
    assert users[1].type is AccountUserType.COMPANY
    assert users[1].operation_id == "65a1f0c2e4b0a1b2c3d4e5aa"
    assert users[0].update_date == datetime(2024, 6, 7, 8, 9, 10, tzinfo=UTC)
    assert "alice@example.com" not in repr(users[0])
    assert "Alice Example" not in repr(users[0])
    odd = AccountUser.from_api({"accountUserId": 1, "type": 5})
    assert odd.type is AccountUserType.UNKNOWN
    assert odd.type_code == 5
    assert AccountUser.from_api({"accountUserId": 2}).type is AccountUserType.USER


def test_setting_integration_company_models() -> None:
    setting = AccountSetting.from_api(load_fixture("web/account_setting.json"))
    assert setting.device_view_type == "TILE"
    assert setting.nuki_club_dismissed is True
    assert setting.marked_staled_devices == (
        StaleDevice(smartlock_id=17618910285, name="Front door", read=False),
    )
    assert "Front door" not in repr(setting)
    assert (
        AccountSetting.from_api({"web": {"markedStaledDevices": "x"}}).marked_staled_devices == ()
    )
    integrations = [
        AccountIntegration.from_api(item) for item in load_fixture("web/account_integrations.json")
    ]
    assert integrations[1].scopes == ("smartlock.readOnly", "smartlock.log")
    assert integrations[1].sub_account_id == 412346
    assert integrations[0].warning is True
    assert "Carol" not in repr(integrations[1])
    companies = [Company.from_api(item) for item in load_fixture("web/companies.json")]
    assert companies[1].email is None
    assert "office@example.com" not in repr(companies[0])


def test_inputs_to_api() -> None:
    assert AccountProfile().to_api() == {}
    assert AccountConfig().to_api() == {}
    assert StaleDevice().to_api() == {}
    full = AccountProfile.from_api(ACCOUNT["profile"])
    assert full.to_api() == ACCOUNT["profile"]
    assert "Alice" not in repr(full)
    assert OtpSecret(secret="JBSWY3DPEHPK3PXP").secret not in repr(
        OtpSecret(secret="JBSWY3DPEHPK3PXP")
    )


@pytest.mark.parametrize(
    ("parser", "fixture", "ignored"),
    [
        (Account.from_api, "web/account.json", {"futureField"}),
        (Account.from_api, "web/sub_accounts.json", set()),
        (AccountUser.from_api, "web/account_users.json", set()),
        (AccountSetting.from_api, "web/account_setting.json", set()),
        (AccountIntegration.from_api, "web/account_integrations.json", set()),
        (Company.from_api, "web/companies.json", set()),
    ],
)
def test_drift(parser: Callable[[Mapping[str, Any]], Any], fixture: str, ignored: set[str]) -> None:
    assert unmapped_keys(parser, load_fixture(fixture), ignored) == set()
