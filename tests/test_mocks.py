"""The mocks harness itself: recording, fake provider answers, secrets, config loading, repeatability."""
from __future__ import annotations

import json

import pulumi
import pytest
from cryptography import x509

from redisinfra.mocks import FakeProvider, Registration, run_program, stack_config, stack_config_with_secrets


def _tls_chain() -> None:
    import pulumi_tls as tls

    ca_key = tls.PrivateKey("ca-key", algorithm="ECDSA", ecdsa_curve="P256")
    ca = tls.SelfSignedCert("ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
                            subject={"common_name": "test CA"}, validity_period_hours=24,
                            allowed_uses=["cert_signing"])
    key = tls.PrivateKey("node-key", algorithm="ECDSA", ecdsa_curve="P256")
    csr = tls.CertRequest("node-csr", private_key_pem=key.private_key_pem, subject={"common_name": "node"},
                          dns_names=["node", "localhost"], ip_addresses=["127.0.0.1"])
    cert = tls.LocallySignedCert("node-cert", cert_request_pem=csr.cert_request_pem,
                                 ca_private_key_pem=ca_key.private_key_pem, ca_cert_pem=ca.cert_pem,
                                 validity_period_hours=24, allowed_uses=["server_auth"])
    pulumi.export("ca", ca.cert_pem)
    pulumi.export("cert", cert.cert_pem)
    pulumi.export("key", key.private_key_pem)


def test_records_type_name_parent_inputs_and_secret_paths() -> None:
    import pulumi_docker as docker
    import pulumi_random as random

    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Thing", "thing")
        pw = random.RandomPassword("pw", length=24, special=False, opts=pulumi.ResourceOptions(parent=parent))
        docker.Container("c", image="redis:7.2-alpine", uploads=[{"file": "/etc/secret", "content": pw.result}],
                         opts=pulumi.ResourceOptions(parent=parent))
        parent.register_outputs({"ok": True})
        pulumi.export("password", pw.result)
        pulumi.export("plain", "hello")

    rec = run_program(program, {"redis:name": "x"})
    component = rec.one("test:index:Thing", "thing")
    assert not component.custom
    container = rec.one("docker:index/container:Container", "c")
    assert isinstance(container, Registration) and container.custom
    assert container.parent == component.urn
    assert {r.name for r in rec.children_of(component.urn)} == {"pw", "c"}
    password = rec.outputs["password"]
    assert len(password) == 24 and password.isalnum()
    assert container.inputs["uploads"][0]["content"] == password
    assert container.is_secret("uploads[0].content") and not container.is_secret("image")
    assert rec.secret_outputs == {"password"} and rec.outputs["plain"] == "hello"
    assert rec.component_outputs[component.urn] == {"ok": True}


def test_no_input_dropped_and_names_returned() -> None:
    import pulumi_docker as docker

    def program() -> None:
        net = docker.Network("net", name="redis-net", internal=False, options={"a": "b"})
        pulumi.export("net_name", net.name)
        pulumi.export("internal", net.internal)

    rec = run_program(program, {})
    assert rec.outputs == {"net_name": "redis-net", "internal": False}
    reg = rec.one("docker:index/network:Network", "net")
    assert reg.outputs["options"] == {"a": "b"} and reg.id


def test_tls_fakes_are_real_certificates_that_chain() -> None:
    rec = run_program(_tls_chain, {})
    ca = x509.load_pem_x509_certificate(rec.outputs["ca"].encode())
    cert = x509.load_pem_x509_certificate(rec.outputs["cert"].encode())
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "node" in sans.get_values_for_type(x509.DNSName)
    assert "key" in rec.secret_outputs  # private keys are secrets, as pulumi-tls marks them
    assert rec.one("tls:index/locallySignedCert:LocallySignedCert", "node-cert").is_secret("caPrivateKeyPem")


def test_data_sources_answer_and_unknown_ones_fail_loudly() -> None:
    import pulumi_aws as aws

    def program() -> None:
        pulumi.export("zones", aws.get_availability_zones(state="available").names)
        pulumi.export("account", aws.get_caller_identity().account_id)
        pulumi.export("region", aws.get_region().region)
        pulumi.export("subnets", aws.ec2.get_subnets().ids)

    rec = run_program(program, {"aws:region": "eu-west-1"})
    assert rec.outputs["zones"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert rec.outputs["account"] == "123456789012" and rec.outputs["region"] == "eu-west-1"
    assert len(rec.outputs["subnets"]) == 3

    def unknown() -> None:
        aws.ec2.get_instance(instance_id="i-1")

    with pytest.raises(Exception, match="no answer for data source aws:ec2/getInstance"):
        run_program(unknown, {})


def test_stack_config_reads_real_stack_file_and_replaces_secure_values(tmp_path, repo_root) -> None:
    config = stack_config(repo_root / "Pulumi.dev.yaml")
    assert config["redis:backend"] == "docker"
    assert json.loads(config["redis:sentinel"])["count"] == 3
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text("config:\n  aws:region: eu-west-1\n  token:\n    secure: AAABBB\n  redis:flag: true\n")
    config, secret_keys = stack_config_with_secrets(stack)
    assert config == {"aws:region": "eu-west-1", "redis-infra:token": "test-secret-redis-infra-token",
                      "redis:flag": "true"}
    assert secret_keys == {"redis-infra:token"}


def test_config_reaches_pulumi_config_and_the_core_loader(repo_root) -> None:
    from redisinfra.stack import load_from_pulumi

    seen = {}

    def program() -> None:
        seen["name"] = pulumi.Config("redis").require("name")
        seen["cfg"] = load_from_pulumi()
        seen["stack"] = pulumi.get_stack()

    run_program(program, stack_config(repo_root / "Pulumi.dev.yaml"), stack="dev")
    assert seen["name"] == "redis" and seen["cfg"].topology == "sentinel" and seen["stack"] == "dev"


def test_repeated_runs_are_isolated_and_restore_state() -> None:
    import os

    def program() -> None:
        pulumi.export("v", pulumi.Config("redis").get("name"))

    before = os.environ.get("PULUMI_CONFIG")
    for value in ("a", "b", "c"):
        rec = run_program(program, {"redis:name": value})
        assert rec.outputs == {"v": value}
        assert len(rec.registrations) == 0
    assert os.environ.get("PULUMI_CONFIG") == before
    assert pulumi.runtime.settings.get_root_resource() is None


def test_program_errors_propagate_after_cleanup() -> None:
    def program() -> None:
        raise pulumi.RunError("redis:topology: 'x' is not allowed")

    with pytest.raises(pulumi.RunError, match="not allowed"):
        run_program(program, {})
    rec = run_program(lambda: pulumi.export("ok", 1), {})
    assert rec.outputs == {"ok": 1}


def test_fixture_loads_stack_by_name(pulumi_run) -> None:
    rec = pulumi_run(lambda: pulumi.export("backend", pulumi.Config("redis").require("backend")), stack="dev")
    assert rec.outputs == {"backend": "docker"}


def test_fake_provider_is_extensible() -> None:
    import pulumi_aws as aws

    fake = FakeProvider(calls={"aws:ec2/getInstance:getInstance": lambda a: {"id": a["instanceId"], "privateIp": "10.0.0.9"}})
    rec = run_program(lambda: pulumi.export("ip", aws.ec2.get_instance(instance_id="i-1").private_ip), {}, mocks=fake)
    assert rec.outputs == {"ip": "10.0.0.9"}
