"""redis-secrets-not-exposed: secrets only as Pulumi secrets; never in commands, env, labels, ConfigMaps, user data."""
from __future__ import annotations

from .builders import (
    CONFIGMAP, CONTAINER, EC2, PASSWORD, PEM_KEY, RG, STATEFULSET, configmap, docker_container, ec2_instance,
    redis_container, rendered, replication_group, secret, user_data, workload,
)
from .conftest import Judge, messages

POLICY = "redis-secrets-not-exposed"


def test_elasticache_token_must_be_secret(judge: Judge) -> None:
    """The engine sends secrets marked: a secret token passes, the same token in plain text fails."""
    assert judge(RG, replication_group(), POLICY) == []
    found = judge(RG, replication_group(authToken=PASSWORD), POLICY)
    assert "authToken is not a Pulumi secret" in messages(found)
    assert PASSWORD not in messages(found), "a violation message must never show the secret"


def test_docker_secret_uploads_pass_plain_ones_fail(judge: Judge) -> None:
    assert judge(CONTAINER, docker_container(), POLICY) == []
    assert judge(CONTAINER, docker_container("sentinel"), POLICY) == []
    props = docker_container()
    for upload in props["uploads"]:
        if upload["file"].endswith("secrets.conf"):
            upload["content"] = upload["content"]["value"]  # the same file, not marked secret
    found = judge(CONTAINER, props, POLICY)
    assert "secrets.conf holds a password (masterauth) but is not a Pulumi secret" in messages(found)
    assert PASSWORD not in messages(found)


def test_docker_private_key_must_be_secret(judge: Judge) -> None:
    props = docker_container()
    key = next(u for u in props["uploads"] if u["file"].endswith("redis.key"))
    key["content"] = PEM_KEY
    assert "redis.key is a private key but is not a Pulumi secret" in messages(judge(CONTAINER, props, POLICY))


def test_docker_password_in_command_env_label_fails(judge: Judge) -> None:
    argv = {"image": "redis:7.2", "command": ["redis-server", "--requirepass", secret(PASSWORD)]}
    # Even a secret value is visible in `docker inspect` / ps once it is an argument.
    assert "`--requirepass` puts a password on the command line" in messages(judge(CONTAINER, argv, POLICY))
    args_env = docker_container(envs=[f"REDIS_ARGS=--requirepass {PASSWORD} --maxmemory 1gb"])
    assert "REDIS_ARGS of the container passes a password option" in messages(judge(CONTAINER, args_env, POLICY))
    env = docker_container(envs=[f"REDIS_PASSWORD={PASSWORD}"])
    assert "environment variable REDIS_PASSWORD" in messages(judge(CONTAINER, env, POLICY))
    assert judge(CONTAINER, docker_container(envs=["REDIS_PASSWORD_FILE=/run/secrets/pw", "ALLOW_EMPTY_PASSWORD=no"]),
                 POLICY) == []
    label = docker_container(labels=[{"label": "redis.auth-token", "value": PASSWORD}])
    assert "label redis.auth-token" in messages(judge(CONTAINER, label, POLICY))
    health = docker_container(healthcheck={"tests": ["CMD-SHELL", f"redis-cli -a {PASSWORD} PING"]})
    assert "`-a` puts a password on the command line of the health check" in messages(judge(CONTAINER, health, POLICY))


def test_exporter_sidecar_env_is_judged(judge: Judge) -> None:
    """Images built around Redis carry its credentials too."""
    exporter = {"image": "oliver006/redis_exporter:v1.62.0", "envs": [f"REDIS_PASSWORD={PASSWORD}"]}
    assert "REDIS_PASSWORD" in messages(judge(CONTAINER, exporter, POLICY))


def test_kubernetes(judge: Judge) -> None:
    conf, secret_files = rendered("replica")
    assert judge(CONFIGMAP, configmap(conf), POLICY) == []
    leaked = configmap(conf + secret_files["secrets.conf"])
    assert "ConfigMap data.redis.conf holds a password (masterauth)" in messages(judge(CONFIGMAP, leaked, POLICY))
    assert "private key" in messages(judge(CONFIGMAP, configmap(PEM_KEY, key="tls.key") | {"data": {
        "redis.conf": conf, "tls.key": PEM_KEY}}, POLICY))
    assert judge(STATEFULSET, workload(), POLICY) == []  # secretKeyRef
    literal = workload(redis_container(env=[{"name": "REDIS_PASSWORD", "value": PASSWORD}]))
    assert "environment variable REDIS_PASSWORD of container redis" in messages(judge(STATEFULSET, literal, POLICY))
    args = workload(redis_container(args=["--requirepass", PASSWORD]))
    assert "`--requirepass`" in messages(judge(STATEFULSET, args, POLICY))
    # An env reference expanded by Kubernetes is not a literal password.
    assert judge(STATEFULSET, workload(redis_container(env=[{"name": "REDIS_AUTH", "value": ""}])), POLICY) == []


def test_ec2_user_data(judge: Judge) -> None:
    conf, secret_files = rendered("replica")
    assert judge(EC2, ec2_instance(), POLICY) == []
    leaked = ec2_instance(userData=user_data(conf + secret_files["secrets.conf"]))
    found = judge(EC2, leaked, POLICY)
    assert "user data holds a password (masterauth)" in messages(found) and PASSWORD not in messages(found)
    cli = ec2_instance(userData=user_data(conf) + f"redis-cli -a {PASSWORD} CONFIG SET maxmemory 1gb\n")
    assert "`-a`" in messages(judge(EC2, cli, POLICY))
    fetched = ec2_instance(userData=user_data(conf) + "echo \"requirepass $(aws ssm get-parameter)\" >> x.conf\n")
    assert judge(EC2, fetched, POLICY) == []  # resolved on the machine, not written in the user data
