"""Docker backend under the mocks harness: every topology's resources, files, secrets, ports and hardening."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pulumi
import pytest

from components import docker_layout as L
from redisinfra.connection import Connection
from redisinfra.credentials import PASSWORD_LENGTH, Secrets, user_names
from redisinfra.mocks import FakeProvider, Recording, Registration
from redisinfra.plan import build_plan
from redisinfra.program import main
from redisinfra.render import render_node, render_secret_files, sentinel_launch
from redisinfra.stack import parse_config

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
IMAGE = "docker:index/remoteImage:RemoteImage"
PASSWORD = "random:index/randomPassword:RandomPassword"
COMPONENT = "redis-infra:docker:DockerRedis"
CA = "tls:index/selfSignedCert:SelfSignedCert"
KEY = "tls:index/privateKey:PrivateKey"

TOPOLOGIES: dict[str, dict[str, Any]] = {
    "standalone": {"name": "solo", "backend": "docker", "topology": "standalone", "memory": {"node_memory": "256mb"},
                   "security": {"auth": {"mode": "acl", "users": [{"name": "app"}, {"name": "ro", "access": "readonly"}]}}},
    "replication": {"name": "queue", "backend": "docker", "topology": "replication", "replicas": 1,
                    "persistence": {"mode": "aof"}, "memory": {"node_memory": "512mb", "maxmemory": "256mb"}},
    "sentinel": {"name": "redis", "backend": "docker", "topology": "sentinel", "replicas": 2,
                 "sentinel": {"count": 3, "quorum": 2}},
    "cluster": {"name": "cache", "backend": "docker", "topology": "cluster", "replicas": 1,
                "cluster": {"shards": 3}, "memory": {"node_memory": "256mb"}},
}


def as_pulumi_config(values: dict[str, Any]) -> dict[str, str]:
    """A `redis:` mapping in the runtime's "ns:key" -> text form."""
    return {f"redis:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def deploy(pulumi_run, values: dict[str, Any]) -> Recording:
    """Run the real program (`__main__` -> program.main) for a config under the mocks."""
    return pulumi_run(main, as_pulumi_config(values), stack="dev")


@pytest.fixture(params=sorted(TOPOLOGIES))
def topology(request: pytest.FixtureRequest, pulumi_run) -> Iterator[tuple[dict[str, Any], Recording]]:
    values = TOPOLOGIES[request.param]
    yield values, deploy(pulumi_run, values)


def _plan(values: dict[str, Any]):
    return L.layout(build_plan(parse_config(values)))


def _secrets(rec: Recording, cfg) -> Secrets:
    """The passwords the fake pulumi-random produced, as the component names them."""
    by_name = {r.name: r.outputs["result"] for r in rec.by_type(PASSWORD)}
    passwords = {u: by_name[f"{cfg.name}-password-{u}"] for u in user_names(cfg)}
    return Secrets(passwords, by_name.get(f"{cfg.name}-password-sentinel-auth", ""))


def _uploads(reg: Registration) -> dict[str, dict[str, Any]]:
    return {u["file"]: u for u in reg.inputs.get("uploads", [])}


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, value


def _secret_values(rec: Recording) -> list[str]:
    values = [r.outputs["result"] for r in rec.by_type(PASSWORD)]
    values += [r.outputs["privateKeyPem"] for r in rec.by_type(KEY)]
    assert values and all(len(v) >= PASSWORD_LENGTH for v in values)
    return values


def test_resources_counts_and_parents(topology) -> None:
    values, rec = topology
    plan = _plan(values)
    component = rec.one(COMPONENT, values["name"])
    others = [r for r in rec.registrations if r.type != COMPONENT]
    assert others and all(r.parent == component.urn for r in others), "every child is parented to the component"
    nodes = len(plan.all_nodes)
    join = 1 if values["topology"] == "cluster" else 0
    assert len(rec.by_type(CONTAINER)) == nodes + 1 + join  # nodes + anchor (+ join)
    assert len(rec.by_type(VOLUME)) == 2 * nodes + join  # data + config per node (+ join config)
    assert len(rec.by_type(NETWORK)) == 1 and len(rec.by_type(IMAGE)) == 1
    assert len(rec.by_type(CA)) == 1
    assert len(rec.by_type("tls:index/locallySignedCert:LocallySignedCert")) == nodes + 1  # + client
    assert {r.name for r in rec.by_type(PASSWORD)} == (
        {f"{values['name']}-password-{u}" for u in user_names(parse_config(values))}
        | ({f"{values['name']}-password-sentinel-auth"} if values["topology"] == "sentinel" else set()))
    for password in rec.by_type(PASSWORD):
        assert password.inputs["length"] == PASSWORD_LENGTH and password.inputs["special"] is False
    assert rec.component_outputs[component.urn]["connection"], "register_outputs carries the connection"


def test_each_container_runs_exactly_the_rendered_files(topology) -> None:
    values, rec = topology
    cfg = parse_config(values)
    plan = _plan(values)
    secrets = _secrets(rec, cfg)
    ca_pem = rec.by_type(CA)[0].outputs["certPem"]
    for node in plan.all_nodes:
        container = rec.one(CONTAINER, node.name)
        uploads = _uploads(container)
        expected = {L.PATHS.conf(f): t for f, t in render_node(plan, node, L.PATHS).items()}
        expected.update({L.PATHS.conf(f): t for f, t in render_secret_files(plan, node, secrets).items()})
        for path, text in expected.items():
            assert uploads[path]["content"] == text, f"{node.name}: {path} differs from the renderer"
        assert uploads[L.PATHS.tls("ca.crt")]["content"] == ca_pem
        assert set(uploads) == set(expected) | {L.PATHS.tls(f) for f in ("ca.crt", "redis.crt", "redis.key")}
        assert container.inputs["entrypoints"] == L.entrypoint(cfg, node)
    # The plan as Docker realises it: one announced name, one port per node (pitfall 1).
    ports = [n.port for n in plan.all_nodes]
    assert len(set(ports)) == len(ports) and {n.address for n in plan.all_nodes} == {"localhost"}


def test_secret_files_are_secret_and_readable_only_by_the_server_group(topology) -> None:
    _values, rec = topology
    for container in rec.by_type(CONTAINER):
        for i, upload in enumerate(container.inputs.get("uploads", [])):
            name = upload["file"].rsplit("/", 1)[-1]
            if name in L.SECRET_FILES or name.endswith(".key") or name.endswith(".json"):
                assert container.is_secret(f"uploads[{i}].content"), f"{container.name}: {upload['file']} not secret"
                assert upload["permissions"] == "0440" and upload["owner"] == "0"
            else:
                assert upload["permissions"] == "0444"


def test_no_secret_in_commands_env_labels_or_plain_outputs(topology) -> None:
    _values, rec = topology
    secrets = _secret_values(rec)
    for reg in rec.registrations:
        for path, value in _walk(reg.inputs):
            if reg.is_secret(path) or not isinstance(value, str):
                continue
            leaked = [s for s in secrets if s in value or (len(value) >= 16 and value in s)]
            assert not leaked, f"{reg.type} {reg.name}: secret in non-secret input {path}"
    for container in rec.by_type(CONTAINER):
        assert not container.inputs.get("envs"), f"{container.name} has environment variables"
        exposed = json.dumps([container.inputs.get(k) for k in ("entrypoints", "command", "labels", "healthcheck")])
        assert not any(s in exposed for s in secrets)
    assert rec.secret_outputs == {"connection"}
    plain = json.dumps({k: v for k, v in rec.outputs.items() if k not in rec.secret_outputs})
    assert not any(s in plain for s in secrets)


def test_only_client_ports_published_and_only_on_loopback(topology) -> None:
    values, rec = topology
    plan = _plan(values)
    pod = rec.one(CONTAINER, f"{values['name']}-pod")
    published = pod.inputs["ports"]
    assert {p["ip"] for p in published} == {"127.0.0.1"}
    assert all(p["internal"] == p["external"] for p in published), "same port inside the pod and on the host"
    assert sorted(p["external"] for p in published) == sorted(n.port for n in plan.all_nodes)
    assert not any(n.bus_port in [p["external"] for p in published] for n in plan.nodes if n.bus_port)
    assert pod.inputs["networksAdvanced"][0]["name"] == values["name"]
    network = rec.one(NETWORK, f"{values['name']}-net")
    assert network.inputs["driver"] == "bridge"
    for container in rec.by_type(CONTAINER):
        if container.name != pod.name:
            assert not container.inputs.get("ports"), f"{container.name} publishes ports"
            assert container.inputs["networkMode"] == f"container:{pod.id}", "every node joins the pod"


def test_containers_are_hardened(topology) -> None:
    values, rec = topology
    cfg = parse_config(values)
    for container in rec.by_type(CONTAINER):
        i = container.inputs
        assert i["readOnly"] is True and "/tmp" in i["tmpfs"], container.name
        assert i["securityOpts"] == ["no-new-privileges:true"] and i["capabilities"] == {"drops": ["ALL"]}
        assert i["user"] and not i["user"].startswith("0") and not i["user"].startswith("root")
        assert i["memory"] > 0 and i["memorySwap"] == i["memory"]
        assert not i.get("privileged")
        assert all(v["volumeName"].startswith(values["name"]) for v in i.get("volumes", []))
    plan = _plan(values)
    for node in plan.nodes:
        container = rec.one(CONTAINER, node.name)
        limit = container.inputs["memory"] * 1024 * 1024
        assert limit > cfg.memory.maxmemory_bytes() * 1.25, "memory limit leaves copy-on-write headroom"
        assert {v["containerPath"] for v in container.inputs["volumes"]} == {"/data", "/etc/redis"}


def test_health_checks_speak_tls_and_auth_without_the_password(topology) -> None:
    values, rec = topology
    for node in _plan(values).all_nodes:
        check = rec.one(CONTAINER, node.name).inputs["healthcheck"]
        kind, command = check["tests"]
        assert kind == "CMD-SHELL"
        assert "--tls" in command and "--cacert" in command and "--askpass" in command
        assert " -a " not in command and "--pass" not in command and "REDISCLI_AUTH" not in command
        assert f"-p {node.port} " in command
        assert rec.one(CONTAINER, node.name).inputs["wait"] is True


def test_sentinel_state_is_seeded_once(pulumi_run) -> None:
    rec = deploy(pulumi_run, TOPOLOGIES["sentinel"])
    entry = rec.one(CONTAINER, "redis-sentinel-0").inputs["entrypoints"]
    # The core's shared launcher (as the sandbox runs it): seeded once with umask 077, secrets re-included last.
    assert entry == ["sh", "-c", sentinel_launch(L.PATHS, "redis-sentinel")]
    assert "umask 077" in entry[2] and "[ -f /data/sentinel.conf ] || cat /etc/redis/sentinel.conf > /data/sentinel.conf" in entry[2]
    assert "echo 'include /etc/redis/sentinel-secrets.conf' >> /data/sentinel.conf" in entry[2]
    assert entry[2].endswith("exec redis-sentinel /data/sentinel.conf")
    volumes = rec.one(CONTAINER, "redis-sentinel-0").inputs["volumes"]
    assert {"volumeName": "redis-sentinel-0-data", "containerPath": "/data"} in volumes


def test_cluster_join_runs_once_after_every_node(pulumi_run) -> None:
    values = TOPOLOGIES["cluster"]
    rec = deploy(pulumi_run, values)
    plan = _plan(values)
    joins = [c for c in rec.by_type(CONTAINER) if "cluster-join" in c.name]
    assert len(joins) == 1
    join = joins[0]
    assert join.inputs["mustRun"] is False and join.inputs["restart"] == "no" and join.inputs["attach"] is True
    node_urns = {rec.one(CONTAINER, n.name).urn for n in plan.nodes}
    assert node_urns <= set(join.options["dependencies"]), "joins only after every node is healthy"
    uploads = _uploads(join)
    script = uploads["/etc/redis/cluster-join.sh"]["content"]
    assert script == L.join_script(plan)
    assert "--cluster create" in script and "--askpass" in script and '< "$PASSWORD_FILE"' in script
    assert script.index("already formed") < script.index("--cluster create"), "checks formation before creating"
    operator = _secrets(rec, parse_config(values)).password("operator")
    assert uploads["/etc/redis/operator.pass"]["content"] == operator + "\n"
    assert operator not in script and operator not in json.dumps(join.inputs["entrypoints"])
    # Each replica joins the primary the plan gives it.
    for node in plan.nodes:
        if node.primary:
            assert f"127.0.0.1:{node.port}=127.0.0.1:{plan.node(node.primary).port}" in script


def test_cluster_nodes_announce_hostname_and_distinct_bus_ports(pulumi_run) -> None:
    values = TOPOLOGIES["cluster"]
    rec = deploy(pulumi_run, values)
    for node in _plan(values).nodes:
        conf = _uploads(rec.one(CONTAINER, node.name))["/etc/redis/redis.conf"]["content"]
        assert "cluster-announce-hostname localhost" in conf and "cluster-preferred-endpoint-type hostname" in conf
        assert f"cluster-announce-tls-port {node.port}" in conf and f"cluster-announce-bus-port {node.bus_port}" in conf
        assert "bind * -::*" in conf  # published traffic arrives on the pod's bridge interface, not loopback


@pytest.mark.parametrize("restart, persistence, expected", [
    ("always", "both", "unless-stopped"), ("on-failure", "rdb", "on-failure"), ("never", "none", "no"),
])
def test_restart_policy_respects_persistence(pulumi_run, restart: str, persistence: str, expected: str) -> None:
    values = {**TOPOLOGIES["replication"], "restart": restart, "persistence": {"mode": persistence}}
    rec = deploy(pulumi_run, values)
    for node in _plan(values).nodes:
        assert rec.one(CONTAINER, node.name).inputs["restart"] == expected


def test_restart_without_persistence_is_refused_before_any_resource(pulumi_run) -> None:
    values = {**TOPOLOGIES["replication"], "restart": "always", "persistence": {"mode": "none"}}
    with pytest.raises(pulumi.RunError, match=r"redis:restart: 'always' restarts a primary without persistence"):
        deploy(pulumi_run, values)


def test_contract_output(topology) -> None:
    values, rec = topology
    connection = Connection.model_validate(rec.outputs["connection"])
    plan = _plan(values)
    assert connection.backend == "docker" and connection.topology == values["topology"]
    assert [(e.name, e.host, e.port, e.role) for e in connection.endpoints] == [
        (n.name, "localhost", n.port, n.role) for n in plan.all_nodes]
    assert connection.tls.enabled and connection.tls.ca_pem == rec.by_type(CA)[0].outputs["certPem"]
    pod_ports = {p["external"] for p in rec.one(CONTAINER, f"{values['name']}-pod").inputs["ports"]}
    assert {e.port for e in connection.endpoints} == pod_ports, "every endpoint is published"
    user = connection.credentials.username
    assert connection.credentials.password.get_secret_value() == _secrets(rec, parse_config(values)).password(user)


def test_mutual_tls_exports_client_certificate(pulumi_run) -> None:
    values = {**TOPOLOGIES["standalone"], "security": {"tls": {"client_auth": "required"}}}
    rec = deploy(pulumi_run, values)
    connection = Connection.model_validate(rec.outputs["connection"])
    assert connection.tls.client_cert_pem and connection.tls.client_key_pem
    assert "tls-auth-clients yes" in _uploads(rec.one(CONTAINER, "solo-0"))["/etc/redis/redis.conf"]["content"]


def test_plaintext_stack_has_no_tls_material(pulumi_run) -> None:
    values = {**TOPOLOGIES["standalone"], "security": {"tls": {"enabled": False}}}
    rec = deploy(pulumi_run, values)
    assert not rec.by_type(CA) and not rec.by_type(KEY)
    uploads = _uploads(rec.one(CONTAINER, "solo-0"))
    assert not any("/tls/" in path for path in uploads)
    assert "--tls" not in rec.one(CONTAINER, "solo-0").inputs["healthcheck"]["tests"][1]


def test_valkey_uses_its_pinned_image_and_binaries(pulumi_run) -> None:
    values = {**TOPOLOGIES["sentinel"], "engine": "valkey", "version": "8.0"}
    rec = deploy(pulumi_run, values)
    assert rec.by_type(IMAGE)[0].inputs["name"] == "valkey/valkey:8.0.2-alpine"
    assert rec.one(CONTAINER, "redis-0").inputs["entrypoints"][0] == "valkey-server"
    assert "valkey-cli" in rec.one(CONTAINER, "redis-0").inputs["healthcheck"]["tests"][1]
    assert rec.one(CONTAINER, "redis-sentinel-0").inputs["entrypoints"] == ["sh", "-c", sentinel_launch(L.PATHS, "valkey-sentinel")]


def test_exporter_uses_tls_and_auth_from_files(pulumi_run) -> None:
    values = {**TOPOLOGIES["sentinel"], "docker": {"exporter": True}}
    rec = deploy(pulumi_run, values)
    exporter = rec.one(CONTAINER, "redis-exporter")
    args = exporter.inputs["command"]
    assert "-redis.addr=rediss://127.0.0.1:6379" in args and "-redis.user=monitor" in args
    assert any(a.startswith("-tls-client-cert-file=") for a in args) and any(a.startswith("-redis.password-file=") for a in args)
    uploads = _uploads(exporter)
    passwords = json.loads(uploads["/etc/redis-exporter/passwords.json"]["content"])
    secrets = _secrets(rec, parse_config(values))
    assert passwords["rediss://127.0.0.1:6379"] == secrets.password("monitor")
    # The key form exporters from v1.68 look up when -redis.user is set.
    assert passwords["rediss://monitor@127.0.0.1:6379"] == secrets.password("monitor")
    assert not any(secrets.password("monitor") in a for a in args)
    pod = rec.one(CONTAINER, "redis-pod")
    assert {"internal": 9121, "external": 9121, "ip": "127.0.0.1", "protocol": "tcp"} in pod.inputs["ports"]
    # By name: registrations of independent resources arrive in no fixed order.
    assert rec.one(IMAGE, "redis-exporter-image").inputs["name"].startswith("oliver006/redis_exporter:v")


def test_sentinels_are_scraped_as_their_default_user(pulumi_run) -> None:
    """Sentinels have no `monitor` user: the exporter that sends `-redis.user=monitor` cannot scrape them. A second
    exporter without a user scrapes them with Sentinel's `requirepass` (the default user), password from a file."""
    values = {**TOPOLOGIES["sentinel"], "docker": {"exporter": True}}
    rec = deploy(pulumi_run, values)
    secrets = _secrets(rec, parse_config(values))
    plan = _plan(values)
    data = json.loads(_uploads(rec.one(CONTAINER, "redis-exporter"))["/etc/redis-exporter/passwords.json"]["content"])
    assert not any(f":{s.port}" in uri for uri in data for s in plan.sentinels), "monitor is no Sentinel user"
    exporter = rec.one(CONTAINER, "redis-sentinel-exporter")
    args = exporter.inputs["command"]
    assert "-redis.addr=rediss://127.0.0.1:26379" in args and "-web.listen-address=:9122" in args
    assert not any(a.startswith("-redis.user") for a in args), "AUTH <password>: Sentinel's default user"
    assert any(a.startswith("-tls-client-cert-file=") for a in args)
    uploads = _uploads(exporter)
    passwords = json.loads(uploads["/etc/redis-exporter/passwords.json"]["content"])
    assert passwords == {f"rediss://127.0.0.1:{s.port}": secrets.sentinel_password for s in plan.sentinels}
    index = [u["file"] for u in exporter.inputs["uploads"]].index("/etc/redis-exporter/passwords.json")
    assert exporter.is_secret(f"uploads[{index}].content")
    for field in ("command", "envs", "labels"):
        assert secrets.sentinel_password not in json.dumps(exporter.inputs.get(field))
    assert exporter.inputs["user"] == "59000:59000" and exporter.inputs["readOnly"] is True
    pod = rec.one(CONTAINER, "redis-pod")
    assert {"internal": 9122, "external": 9122, "ip": "127.0.0.1", "protocol": "tcp"} in pod.inputs["ports"]


def test_no_sentinel_exporter_without_sentinels(pulumi_run) -> None:
    rec = deploy(pulumi_run, {**TOPOLOGIES["replication"], "docker": {"exporter": True}})
    assert not [c for c in rec.by_type(CONTAINER) if "sentinel-exporter" in c.name]
    ports = {p["external"] for p in rec.one(CONTAINER, "queue-pod").inputs["ports"]}
    assert 9121 in ports and 9122 not in ports


def test_announce_host_other_than_localhost_resolves_inside_the_pod(pulumi_run) -> None:
    values = {**TOPOLOGIES["sentinel"], "docker": {"publish_address": "192.168.1.10", "announce_host": "redis.lan"}}
    rec = deploy(pulumi_run, values)
    pod = rec.one(CONTAINER, "redis-pod")
    assert pod.inputs["hosts"] == [{"host": "redis.lan", "ip": "127.0.0.1"}]
    assert {p["ip"] for p in pod.inputs["ports"]} == {"192.168.1.10"}
    assert "sentinel announce-ip redis.lan" in _uploads(rec.one(CONTAINER, "redis-sentinel-0"))["/etc/redis/sentinel.conf"]["content"]
    cert = rec.one("tls:index/certRequest:CertRequest", "redis-0-csr").inputs
    assert "redis.lan" in cert["dnsNames"]


@pytest.mark.parametrize("values, message", [
    ({"version": "7.1"}, "redis:version: no pinned redis 7.1 image for Docker"),
    ({"docker": {"publish_address": "0.0.0.0"}, "security": {"tls": {"enabled": False}}},
     "redis:docker.publish_address: 0.0.0.0 is reachable from other machines"),
    ({"docker": {"announce_host": "10.0.0.1"}}, "redis:docker.announce_host: '10.0.0.1' is an IP"),
    ({"ports": {"redis": 26378}}, "redis:ports.sentinel: ports 26379-26381 overlap ports.redis"),
    ({"docker": {"imag": "x"}}, "redis:docker.imag: unknown key; did you mean 'image'?"),
])
def test_bad_docker_config_is_one_line_naming_the_key(pulumi_run, values: dict, message: str) -> None:
    with pytest.raises(pulumi.RunError) as error:
        deploy(pulumi_run, {**TOPOLOGIES["sentinel"], **values})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_dev_stack_file_deploys(pulumi_run) -> None:
    rec = pulumi_run(main, stack="dev")
    assert rec.one(COMPONENT, "redis") and len(rec.by_type(CONTAINER)) == 1 + 3 + 3
    assert rec.outputs["plan"]["backend"] == "docker" and not rec.warnings()


def test_names_are_stable_across_runs(pulumi_run) -> None:
    first = deploy(pulumi_run, TOPOLOGIES["cluster"])
    second = deploy(pulumi_run, TOPOLOGIES["cluster"])
    # Registration order depends on when outputs resolve; the set of (type, name) must not change between runs.
    names = lambda rec: sorted((r.type, r.name) for r in rec.registrations)  # noqa: E731
    assert names(first) == names(second) and len(set(names(first))) == len(first.registrations)


class _JoinExits(FakeProvider):
    """The fake provider, except that the one-shot cluster-join container exits with `code`."""

    def __init__(self, code: Any) -> None:
        super().__init__()
        self.code = code

    def new_resource(self, args):  # type: ignore[override]
        id_, state = super().new_resource(args)
        if args.typ == CONTAINER and "cluster-join" in args.name:
            state = {**state, "exitCode": self.code}
        return id_, state


def _deploy_with_join_exit(pulumi_run, code: Any) -> Recording:
    return pulumi_run(main, as_pulumi_config(TOPOLOGIES["cluster"]), stack="dev", mocks=_JoinExits(code))


def test_failed_cluster_join_fails_the_deployment(pulumi_run) -> None:
    # pulumi-docker records a one-shot container's exit code without failing: the component must fail `pulumi up`.
    with pytest.raises(Exception) as failure:
        _deploy_with_join_exit(pulumi_run, 1)
    message = str(failure.value)
    assert "cache-cluster-join" in message and "exit code 1" in message
    assert "\n" not in message.strip(), "one line"


@pytest.mark.parametrize("code", [0, None])
def test_cluster_join_exit_zero_or_unknown_passes(pulumi_run, code: Any) -> None:
    rec = _deploy_with_join_exit(pulumi_run, code)
    assert any("cluster-join" in c.name for c in rec.by_type(CONTAINER))


def test_sentinel_exporter_port_is_reserved(pulumi_run) -> None:
    # The Sentinel exporter takes exporter_port + 1: a Sentinel port there is a collision, named by its key.
    values = {**TOPOLOGIES["sentinel"], "ports": {"sentinel": 9122}, "docker": {"exporter": True}}
    with pytest.raises(Exception) as failure:
        deploy(pulumi_run, values)
    assert "overlap" in str(failure.value) and "exporter_port" in str(failure.value)
