"""Typed, frozen models of the Web API's payloads, one module per resource."""

from __future__ import annotations

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
    TermsOfUse,
)
from nukiasync.web.models.address import (
    Address,
    AddressToken,
    AddressTokenInfo,
    AddressUnit,
    Reservation,
)
from nukiasync.web.models.apikey import (
    AdvancedApiKey,
    AdvancedConfirmation,
    ApiKey,
    ApiKeyToken,
    DecentralWebhook,
    WebhookLog,
    WebhookMessage,
)
from nukiasync.web.models.auth import (
    SmartlockAuth,
    SmartlockAuthUpdate,
    check_keypad_code,
)
from nukiasync.web.models.log import (
    OpenerLog,
    SmartlockLog,
)
from nukiasync.web.models.notification import (
    Notification,
    NotificationOs,
    NotificationSetting,
    NotificationStatus,
)
from nukiasync.web.models.opener import (
    IntercomVerification,
    OpenerBrand,
    OpenerIntercom,
)
from nukiasync.web.models.page import (
    Page,
)
from nukiasync.web.models.service import (
    Service,
)
from nukiasync.web.models.smartlock import (
    ActionOption,
    AdminPinState,
    Smartlock,
    SmartlockState,
    format_version,
)
from nukiasync.web.models.smartlock_config import (
    OpenerAdvancedConfig,
    SmartdoorAdvancedConfig,
    SmartlockAdvancedConfig,
    SmartlockConfig,
    WebConfig,
)
from nukiasync.web.models.smartlock_update import (
    OpenerAdvancedConfigUpdate,
    SmartdoorAdvancedConfigUpdate,
    SmartlockAdvancedConfigUpdate,
    SmartlockConfigUpdate,
)

__all__ = [
    "Account",
    "AccountConfig",
    "AccountIntegration",
    "AccountProfile",
    "AccountSetting",
    "AccountType",
    "AccountUser",
    "ActionOption",
    "Address",
    "AddressToken",
    "AddressTokenInfo",
    "AddressUnit",
    "AdminPinState",
    "AdvancedApiKey",
    "AdvancedConfirmation",
    "ApiKey",
    "ApiKeyToken",
    "Company",
    "DecentralWebhook",
    "IntercomVerification",
    "Notification",
    "NotificationOs",
    "NotificationSetting",
    "NotificationStatus",
    "OpenerAdvancedConfig",
    "OpenerAdvancedConfigUpdate",
    "OpenerBrand",
    "OpenerIntercom",
    "OpenerLog",
    "OtpSecret",
    "Page",
    "Reservation",
    "Service",
    "SmartdoorAdvancedConfig",
    "SmartdoorAdvancedConfigUpdate",
    "Smartlock",
    "SmartlockAdvancedConfig",
    "SmartlockAdvancedConfigUpdate",
    "SmartlockAuth",
    "SmartlockAuthUpdate",
    "SmartlockConfig",
    "SmartlockConfigUpdate",
    "SmartlockLog",
    "SmartlockState",
    "StaleDevice",
    "TermsOfUse",
    "WebConfig",
    "WebhookLog",
    "WebhookMessage",
    "check_keypad_code",
    "format_version",
]
