"""`DockerRedis`: the stack's plan on the local Docker engine (the `dev` stack), as secure as production.

What it creates (children of the component): a bridge network; a pinned server image; an anchor container that
holds the pod's network namespace and publishes the client ports on `docker.publish_address` (loopback by default);
per node a data volume, a config volume and a container running exactly the rendered files (uploaded; secret files
and private keys as Pulumi secrets, never in the command, environment or labels); Sentinels from a seeded-once state
file; for Cluster a one-shot join container; optionally `redis_exporter` (a second one for Sentinels). TLS material
from pulumi-tls (a CA, one certificate per node), passwords from pulumi-random (letters and digits). Addressing:
components/docker_layout.py.
"""
from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumi_tls as tls

from redisinfra.config import StackConfig
from redisinfra.connection import from_plan
from redisinfra.credentials import PASSWORD_LENGTH, Secrets, user_names
from redisinfra.plan import Node, Plan
from redisinfra.render import TLS_CA, TLS_CERT, TLS_KEY, render_node, render_secret_files
from redisinfra.sections.docker import image_for

from . import docker_layout as L

TYPE = "redis-infra:docker:DockerRedis"
CA_VALIDITY_HOURS = 5 * 365 * 24
RENEW_BEFORE_HOURS = 30 * 24  # renew leaf certificates when 30 days remain (config: security.tls.cert_validity_days)
LOG_OPTS = {"max-size": "10m", "max-file": "3"}  # bounded json-file logs: a chatty node cannot fill the disk


class DockerRedis(pulumi.ComponentResource):
    """Redis (or Valkey) on the local Docker engine in any topology, exporting the connection contract.

    `connection` is an Output of the contract's JSON dict; it is secret (it carries the passwords).
    """

    connection: pulumi.Output[dict]

    def __init__(self, name: str, cfg: StackConfig, plan: Plan, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self.cfg = cfg
        self.plan = L.layout(plan)
        self.settings = L.settings(cfg)
        self._name = name
        self._child = pulumi.ResourceOptions(parent=self)

        self.passwords = self._passwords()
        self.secrets = self._secrets_output()
        self.tls = self._tls() if cfg.security.tls.enabled else None

        self.network = docker.Network(
            f"{name}-net", name=cfg.name, driver="bridge",
            # Only the anchor sits on this network; inter-container traffic on it is not needed, so it is refused.
            options={"com.docker.network.bridge.enable_icc": "false"},
            labels=self._labels("network"), opts=self._child)
        self.image = docker.RemoteImage(f"{name}-image", name=image_for(cfg), keep_locally=True, opts=self._child)
        self.exporter_image = (docker.RemoteImage(f"{name}-exporter-image", name=self.settings.exporter_image,
                                                  keep_locally=True, opts=self._child)
                               if self.settings.exporter else None)
        self.pod = self._anchor()
        self.pod_mode = self.pod.id.apply(lambda id_: f"container:{id_}")

        self.volumes: dict[str, docker.Volume] = {}
        self.containers: dict[str, docker.Container] = {}
        for node in self.plan.all_nodes:
            self.containers[node.name] = self._node(node)
        data_containers = [self.containers[n.name] for n in self.plan.nodes]
        self.join = self._cluster_join(data_containers) if cfg.topology == "cluster" else None
        self.exporter = self._exporter(data_containers) if self.settings.exporter else None
        # Sentinels have no `monitor` user: they get their own exporter that authenticates as their default user.
        sentinels = [self.containers[s.name] for s in self.plan.sentinels]
        self.sentinel_exporter = (self._sentinel_exporter(sentinels)
                                  if self.settings.exporter and sentinels else None)

        self.connection = pulumi.Output.secret(self._connection())
        self.register_outputs({
            "connection": self.connection,
            "network": self.network.name,
            "containers": [c.name for c in self.containers.values()],
        })

    # -- credentials and TLS ------------------------------------------------------------------------------------

    def _passwords(self) -> dict[str, random.RandomPassword]:
        users = user_names(self.cfg) + (["__sentinel__"] if self.cfg.topology == "sentinel" else [])
        out = {}
        for user in users:
            label = "sentinel-auth" if user == "__sentinel__" else user
            # Letters and digits only (credentials.ALPHABET): safe in ACL files, config quoting and URLs.
            out[user] = random.RandomPassword(
                f"{self._name}-password-{label}", length=PASSWORD_LENGTH, special=False, upper=True, lower=True,
                numeric=True, min_upper=2, min_lower=2, min_numeric=2, opts=self._child)
        return out

    def _secrets_output(self) -> pulumi.Output[Secrets]:
        results = {user: pw.result for user, pw in self.passwords.items()}
        return pulumi.Output.secret(pulumi.Output.all(**results).apply(
            lambda pws: Secrets({u: p for u, p in pws.items() if u != "__sentinel__"}, pws.get("__sentinel__", ""))))

    def _tls(self) -> dict[str, Any]:
        tls_cfg = self.cfg.security.tls
        hours = tls_cfg.cert_validity_days * 24
        renew = min(RENEW_BEFORE_HOURS, hours // 2)
        ca_key = tls.PrivateKey(f"{self._name}-ca-key", algorithm="ECDSA", ecdsa_curve="P256", opts=self._child)
        ca = tls.SelfSignedCert(
            f"{self._name}-ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
            subject={"common_name": f"{self.cfg.name} redis CA", "organization": "redis-infra"},
            validity_period_hours=CA_VALIDITY_HOURS, early_renewal_hours=90 * 24,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"], opts=self._child)

        def leaf(label: str, common_name: str) -> tuple[tls.PrivateKey, tls.LocallySignedCert]:
            dns, ips = L.cert_names(self.cfg, common_name)
            key = tls.PrivateKey(f"{label}-tls-key", algorithm="ECDSA", ecdsa_curve="P256", opts=self._child)
            csr = tls.CertRequest(f"{label}-csr", private_key_pem=key.private_key_pem,
                                  subject={"common_name": common_name, "organization": "redis-infra"},
                                  dns_names=dns, ip_addresses=ips, opts=self._child)
            cert = tls.LocallySignedCert(
                f"{label}-cert", cert_request_pem=csr.cert_request_pem, ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem, validity_period_hours=hours, early_renewal_hours=renew,
                # Both uses: nodes are servers to clients and clients to their peers (replication, bus, Sentinel).
                allowed_uses=["digital_signature", "key_encipherment", "server_auth", "client_auth"], opts=self._child)
            return key, cert

        nodes = {n.name: leaf(n.name, n.name) for n in self.plan.all_nodes}
        client = leaf(f"{self._name}-client", f"{self.cfg.name}-client")
        return {"ca": ca, "nodes": nodes, "client": client}

    # -- containers ---------------------------------------------------------------------------------------------

    def _labels(self, role: str, node: str | None = None) -> list[dict[str, str]]:
        labels = {"redis-infra.deployment": self.cfg.name, "redis-infra.stack": pulumi.get_stack(),
                  "redis-infra.role": role}
        if node:
            labels["redis-infra.node"] = node
        return [{"label": k, "value": v} for k, v in labels.items()]

    def _hardening(self, memory_mb: int) -> dict[str, Any]:
        """Settings every container gets: non-root, read-only root, no privilege gain, no capabilities, bounded memory."""
        return {
            "read_only": True,
            "tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=16m"},
            "security_opts": ["no-new-privileges:true"],
            "capabilities": {"drops": ["ALL"]},
            "memory": memory_mb,
            "memory_swap": memory_mb,  # no swap: a swapping Redis is a stalled Redis
            "log_driver": "json-file",
            "log_opts": LOG_OPTS,
        }

    def _anchor(self) -> docker.Container:
        """Holds the pod's network namespace on the bridge network and publishes the client ports (only those)."""
        address = self.settings.publish_address
        ports = [{"internal": p, "external": p, "ip": address, "protocol": "tcp"} for p in L.published_ports(self.plan)]
        if self.settings.exporter:
            exporter_ports = [self.settings.exporter_port]
            if self.plan.sentinels:
                exporter_ports.append(L.sentinel_exporter_port(self.cfg))
            ports += [{"internal": p, "external": p, "ip": address, "protocol": "tcp"} for p in exporter_ports]
        hosts = ([] if self.settings.announce_host == "localhost"
                 else [{"host": self.settings.announce_host, "ip": L.POD_IP}])  # inside the pod: the pod itself
        return docker.Container(
            f"{self._name}-pod", name=f"{self.cfg.name}-pod", image=self.image.image_id,
            entrypoints=["sleep", "2147483647"], init=True, user=L.USER,
            networks_advanced=[{"name": self.network.name, "aliases": [self.cfg.name]}],
            ports=ports, hosts=hosts, restart="unless-stopped", labels=self._labels("pod"),
            **self._hardening(16), opts=self._child)

    def _volume(self, label: str) -> docker.Volume:
        volume = docker.Volume(label, name=label, labels=self._labels("volume"), opts=self._child)
        self.volumes[label] = volume
        return volume

    def _upload(self, path: str, content: Any, secret: bool, group: int = L.GID) -> dict[str, Any]:
        # Files belong to root and are read-only for the server's group: the server can read, never rewrite them.
        return {"file": path, "content": pulumi.Output.secret(content) if secret else content,
                "owner": "0", "group": str(group), "permissions": "0440" if secret else "0444"}

    def _tls_uploads(self, node_name: str, ca_path: str, cert_path: str, key_path: str) -> list[dict[str, Any]]:
        if self.tls is None:
            return []
        key, cert = self.tls["nodes"][node_name] if node_name in self.tls["nodes"] else self.tls["client"]
        return [self._upload(ca_path, self.tls["ca"].cert_pem, False), self._upload(cert_path, cert.cert_pem, False),
                self._upload(key_path, key.private_key_pem, True)]

    def node_files(self, node: Node) -> dict[str, pulumi.Output[str] | str]:
        """The files one node's container gets, by absolute path (what the tests compare with the renderer)."""
        files: dict[str, pulumi.Output[str] | str] = {}
        paths = L.upload_paths(node)
        for filename, text in render_node(self.plan, node, L.PATHS).items():
            files[paths[filename]] = text
        plan = self.plan
        for filename, path in paths.items():
            if filename in L.SECRET_FILES and filename != TLS_KEY:
                files[path] = self.secrets.apply(lambda s, f=filename: render_secret_files(plan, node, s)[f])
        return files

    def _node(self, node: Node) -> docker.Container:
        data = self._volume(f"{node.name}-data")
        conf = self._volume(f"{node.name}-conf")
        uploads = [self._upload(path, content, path.rsplit("/", 1)[-1] in L.SECRET_FILES)
                   for path, content in self.node_files(node).items()]
        uploads += self._tls_uploads(node.name, L.PATHS.tls(TLS_CA), L.PATHS.tls(TLS_CERT), L.PATHS.tls(TLS_KEY))
        restart, retries = L.restart_policy(self.cfg, node)
        extra: dict[str, Any] = {"max_retry_count": retries} if retries else {}
        if self.settings.cpus and node.is_data:
            extra["cpus"] = self.settings.cpus
        return docker.Container(
            node.name, name=node.name, image=self.image.image_id, entrypoints=L.entrypoint(self.cfg, node),
            user=L.USER, network_mode=self.pod_mode, init=True,
            volumes=[{"volume_name": data.name, "container_path": L.PATHS.data_dir},
                     # Uploads need a volume under a read-only root; the files on it are root-owned and read-only.
                     {"volume_name": conf.name, "container_path": L.PATHS.conf_dir}],
            uploads=uploads,
            healthcheck={"tests": L.health_test(self.cfg, node), "interval": f"{self.settings.health_interval_s}s",
                         "timeout": "5s", "retries": 5, "start_period": "30s"},
            wait=True, wait_timeout=120,  # `pulumi up` fails unless every node answers PING over TLS with auth
            restart=restart, stop_timeout=30,  # time for a final save on shutdown
            labels=self._labels(node.role, node.name), **self._hardening(L.memory_mb(self.cfg, node)), **extra,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.pod]))

    def _cluster_join(self, data_containers: list[docker.Container]) -> docker.Container:
        """One-shot container that forms the cluster (idempotent script); re-created only when its inputs change."""
        label = f"{self.cfg.name}-cluster-join"
        conf = self._volume(f"{label}-conf")
        operator = self.secrets.apply(lambda s: s.password("operator") + "\n")
        uploads = [self._upload(L.PATHS.conf(L.JOIN_SCRIPT), L.join_script(self.plan), False),
                   self._upload(L.PATHS.conf(L.OPERATOR_PASSWORD_FILE), operator, True)]
        uploads += self._tls_uploads("__client__", L.PATHS.tls(TLS_CA), L.PATHS.tls(TLS_CERT), L.PATHS.tls(TLS_KEY))
        join = docker.Container(
            label, name=label, image=self.image.image_id, entrypoints=["sh", L.PATHS.conf(L.JOIN_SCRIPT)],
            user=L.USER, network_mode=self.pod_mode,
            volumes=[{"volume_name": conf.name, "container_path": L.PATHS.conf_dir}], uploads=uploads,
            must_run=False, attach=True, logs=True, restart="no", labels=self._labels("cluster-join"),
            **self._hardening(64), opts=pulumi.ResourceOptions(parent=self, depends_on=data_containers))
        # pulumi-docker records a one-shot container's exit code but still reports success: a failed join must fail
        # `pulumi up` (unknown during preview, None while not run: nothing to judge then).
        self.join_result = join.exit_code.apply(lambda code: _join_succeeded(label, code))
        return join

    def _exporter(self, data_containers: list[docker.Container]) -> docker.Container:
        """redis_exporter inside the pod: TLS + auth (`monitor`) to every data node, HTTPS metrics on its port."""
        plan = self.plan
        passwords = self.secrets.apply(lambda s: L.exporter_passwords(plan, s.password("monitor")))
        return self._exporter_container(f"{self.cfg.name}-exporter", "exporter", L.exporter_command(plan), passwords,
                                        data_containers)

    def _sentinel_exporter(self, sentinels: list[docker.Container]) -> docker.Container:
        """redis_exporter for the Sentinels: TLS + Sentinel's `requirepass` (default user), on the next port."""
        plan = self.plan
        passwords = self.secrets.apply(lambda s: L.sentinel_exporter_passwords(plan, s.sentinel_password))
        return self._exporter_container(f"{self.cfg.name}-sentinel-exporter", "sentinel-exporter",
                                        L.sentinel_exporter_command(plan), passwords, sentinels)

    def _exporter_container(self, label: str, role: str, command: list[str], passwords: pulumi.Output[str],
                            targets: list[docker.Container]) -> docker.Container:
        conf = self._volume(f"{label}-conf")
        group = int(L.EXPORTER_USER.split(":")[1])
        uploads = [self._upload(f"{L.EXPORTER_DIR}/passwords.json", passwords, True, group)]
        if self.tls is not None:
            key, cert = self.tls["client"]
            uploads += [self._upload(f"{L.EXPORTER_DIR}/ca.crt", self.tls["ca"].cert_pem, False, group),
                        self._upload(f"{L.EXPORTER_DIR}/client.crt", cert.cert_pem, False, group),
                        self._upload(f"{L.EXPORTER_DIR}/client.key", key.private_key_pem, True, group)]
        assert self.exporter_image is not None
        return docker.Container(
            label, name=label, image=self.exporter_image.image_id, command=command,
            user=L.EXPORTER_USER, network_mode=self.pod_mode,
            volumes=[{"volume_name": conf.name, "container_path": L.EXPORTER_DIR}], uploads=uploads,
            restart="unless-stopped", labels=self._labels(role), **self._hardening(64),
            opts=pulumi.ResourceOptions(parent=self, depends_on=targets))

    # -- contract -----------------------------------------------------------------------------------------------

    def _connection(self) -> pulumi.Output[dict]:
        plan, cfg = self.plan, self.cfg
        ca_pem: Any = self.tls["ca"].cert_pem if self.tls else None
        client: Any = None
        if self.tls and cfg.security.tls.client_auth == "required":
            key, cert = self.tls["client"]
            client = pulumi.Output.all(cert.cert_pem, key.private_key_pem)

        def build(args: list[Any]) -> dict:
            secrets, ca, pair = args
            return from_plan(plan, secrets, ca, backend="docker",
                             client=(pair[0], pair[1]) if pair else None).model_dump(mode="json")

        return pulumi.Output.all(self.secrets, ca_pem, client).apply(build)


def _join_succeeded(label: str, code: Optional[int]) -> bool:
    """Raise a one-line error when the cluster-join container exited non-zero; True when it exited 0."""
    if code is None:
        return False
    if int(code) != 0:
        raise pulumi.RunError(f"{label}: the cluster join exited with exit code {int(code)}; "
                              f"see `docker logs {label}` (the cluster is not formed)")
    return True
