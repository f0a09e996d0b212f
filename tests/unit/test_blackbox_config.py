"""blackbox_exporter's config file as the program renders it: accepted by the real
blackbox_exporter (Debian's, `--config.check`), with and without a CA file."""

from __future__ import annotations

import subprocess

import pytest

from components.exporters import blackbox
from components.types import NotAllowed
from tests.integration.services import make_certificates
from tests.tools import require_tool


def check(tmp_path, text: str) -> subprocess.CompletedProcess:
    binary = require_tool("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
    config = tmp_path / "blackbox.yml"
    config.write_text(text)
    return subprocess.run([binary, f"--config.file={config}", "--config.check"], capture_output=True, text=True,
                          timeout=30, check=False)


def test_the_rendered_config_is_accepted(tmp_path):
    result = check(tmp_path, blackbox.render_blackbox_config())
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rendered_config_with_a_ca_file_is_accepted(tmp_path):
    require_tool("openssl", "openssl")
    certificates = make_certificates(tmp_path, days=2)
    text = blackbox.render_blackbox_config(str(certificates.ca_cert))
    assert f"ca_file: {certificates.ca_cert}" in text
    result = check(tmp_path, text)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_is_real_it_rejects_an_unknown_key(tmp_path):
    result = check(tmp_path, blackbox.render_blackbox_config().replace("follow_redirects: true",
                                                                       "follow_redirects: true\n      no_such_key: 1"))
    assert result.returncode != 0


def test_the_row_writes_the_ca_file_only_when_given():
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    assert blackbox.ca_file({"caCertificate": ""}) is None
    assert blackbox.ca_file({"caCertificate": pem}) == pem
    assert "ca_file" not in blackbox.config_file({"caCertificate": ""})
    assert f"ca_file: {blackbox.CA_PATH}" in blackbox.config_file({"caCertificate": pem})


@pytest.mark.parametrize("value", ["not a certificate", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
                                   "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"
                                   "-----BEGIN RSA PRIVATE KEY-----\ny\n-----END CERTIFICATE-----", 42])
def test_only_certificates_are_accepted_as_ca(value):
    with pytest.raises(NotAllowed, match="PEM"):
        blackbox.pem_certificates(value)
    assert blackbox.pem_certificates("  ") == ""
