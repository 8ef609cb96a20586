"""Where settings come from: ``APP_*``, ``APP_*_FILE``, ``APP_SECRETS_DIR``, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay_gateway.settings import GatewaySettings
from relay_ingest.settings import IngestSettings
from relay_shared.bus import DEFAULT_DELIVERY, DeliveryPolicy
from relay_shared.settings import CommonSettings, SettingsSourceError


def test_variables_are_read_with_the_app_prefix_and_empty_ones_ignored() -> None:
    settings = CommonSettings.from_env(
        {"APP_NATS_STREAM": "S1", "APP_S3_BUCKET": "", "NATS_STREAM": "no", "APP_MAX_DELIVER": "3"}
    )
    assert (settings.nats_stream, settings.s3_bucket, settings.max_deliver) == ("S1", "relay", 3)


def test_overrides_win_over_the_environment() -> None:
    settings = CommonSettings.from_env({"APP_NATS_STREAM": "FROM_ENV"}, nats_stream="GIVEN")
    assert settings.nats_stream == "GIVEN"


def test_building_a_class_directly_reads_nothing_but_its_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_NATS_STREAM", "FROM_PROCESS")
    assert CommonSettings().nats_stream == "RELAY"
    assert CommonSettings(nats_stream="ARG").nats_stream == "ARG"
    assert CommonSettings.from_env().nats_stream == "FROM_PROCESS"


def test_a_file_variable_gives_a_secret_from_its_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("s3cr3t-key\n", "utf-8")
    settings = IngestSettings.from_env({"APP_SECRET_KEY_FILE": str(key_file)})
    assert settings.secret_key.get_secret_value() == "s3cr3t-key"
    gateway = GatewaySettings.from_env({"APP_SECRET_KEY_FILE": str(key_file)})
    assert gateway.secret_key.get_secret_value() == "s3cr3t-key"


def test_a_value_given_directly_and_by_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-file", "utf-8")
    with pytest.raises(SettingsSourceError, match="both set") as error:
        IngestSettings.from_env({"APP_SECRET_KEY": "direct", "APP_SECRET_KEY_FILE": str(key_file)})
    assert error.value.variable == "APP_SECRET_KEY"


def test_an_unreadable_file_variable_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(SettingsSourceError, match="APP_DATABASE_URL_FILE") as error:
        CommonSettings.from_env({"APP_DATABASE_URL_FILE": str(missing)})
    assert (error.value.variable, error.value.path) == ("APP_DATABASE_URL_FILE", str(missing))


def test_a_declared_file_field_keeps_its_own_meaning(tmp_path: Path) -> None:
    """``APP_WEBHOOK_SECRETS_FILE`` is the gateway's path of extra secrets, not the text of
    ``APP_WEBHOOK_SECRETS``."""
    secrets = tmp_path / "webhook_secrets"
    secrets.write_text("one\n# comment\ntwo\n", "utf-8")
    settings = GatewaySettings.from_env(
        {"APP_WEBHOOK_SECRETS": "zero", "APP_WEBHOOK_SECRETS_FILE": str(secrets)}
    )
    assert (settings.webhook_secrets, settings.webhook_secrets_file) == ("zero", secrets)


def test_the_secrets_dir_gives_values_below_variables_and_files(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "APP_SECRET_KEY").write_text("from-dir\n", "utf-8")
    (secrets / "APP_DATABASE_URL").write_text("postgresql://dir/relay", "utf-8")
    (secrets / "APP_S3_BUCKET").write_text("dir-bucket", "utf-8")
    file_value = tmp_path / "database_url"
    file_value.write_text("postgresql://file/relay", "utf-8")
    settings = IngestSettings.from_env(
        {
            "APP_SECRETS_DIR": str(secrets),
            "APP_DATABASE_URL_FILE": str(file_value),
            "APP_S3_BUCKET": "env-bucket",
        }
    )
    assert settings.secret_key.get_secret_value() == "from-dir"
    assert settings.database_url == "postgresql://file/relay"
    assert settings.s3_bucket == "env-bucket"


def test_a_secrets_dir_that_is_no_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsSourceError, match="APP_SECRETS_DIR"):
        CommonSettings.from_env({"APP_SECRETS_DIR": str(tmp_path / "nowhere")})


def test_ingest_reads_its_shipstation_settings_once_with_the_rest() -> None:
    settings = IngestSettings.from_env(
        {
            "APP_SHIPSTATION_HOSTS": r"^127\.0\.0\.1$",
            "APP_SHIPSTATION_ALLOW_HTTP": "1",
            "APP_SHIPSTATION_REQUESTS_PER_MIN": "7",
            "APP_RETRY_BASE_DELAY_S": "0.2",
        }
    )
    assert settings.shipstation_hosts == r"^127\.0\.0\.1$"
    assert settings.shipstation_allow_http is True
    assert settings.shipstation_requests_per_min == 7
    assert settings.delivery_policy().retry_base_delay_s == 0.2


def test_the_delivery_policy_defaults_are_the_same_everywhere() -> None:
    defaults = DEFAULT_DELIVERY
    assert (defaults.ack_wait_s, defaults.max_deliver) == (10.0, 8)
    assert (defaults.retry_base_delay_s, defaults.retry_max_delay_s) == (0.5, 30.0)
    assert CommonSettings().delivery_policy() == DEFAULT_DELIVERY
    assert GatewaySettings.from_env({}).delivery_policy() == DEFAULT_DELIVERY
    policy = CommonSettings.from_env(
        {
            "APP_ACK_WAIT_S": "17",
            "APP_MAX_DELIVER": "5",
            "APP_RETRY_BASE_DELAY_S": "1",
            "APP_RETRY_MAX_DELAY_S": "3",
        }
    ).delivery_policy()
    assert policy == DeliveryPolicy(17.0, 5, 1.0, 3.0)
    assert [policy.delay_for(d) for d in range(1, 5)] == [1.0, 2.0, 3.0, 3.0]
    assert policy.heartbeat_s == pytest.approx(17 / 3)


def test_every_service_reads_how_its_outbox_is_drained_and_kept() -> None:
    env = {"APP_OUTBOX_INTERVAL_S": "0.5", "APP_OUTBOX_RETENTION_DAYS": "3"}
    for settings in (CommonSettings.from_env(env), IngestSettings.from_env(env)):
        assert (settings.outbox_interval_s, settings.outbox_retention_days) == (0.5, 3.0)
    defaults = GatewaySettings()
    assert (defaults.outbox_interval_s, defaults.outbox_retention_days) == (2.0, 7.0)
