"""Run the Pulumi program (or any Pulumi function) offline under recording mocks.

Used by the unit tests (fixture `pulumi_run` in tests/conftest.py) and by the offline `make preview` gate, so it is
importable and restores every piece of global runtime state it touches: it can be called many times in one process.

    rec = run_program(main, stack_config("Pulumi.dev.yaml"), stack="dev")
    rec.one("docker:index/container:Container", "redis-0").inputs["uploads"]

`FakeProvider` answers like the real providers would: ids, ARNs, endpoints, names (mocks do no autonaming, so the
logical name is returned as the physical one), real PEM keys/certificates for pulumi-tls, real passwords for
pulumi-random, and data-source answers. Every input comes back as an output, so nothing is silently dropped.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import random
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
import pulumi.runtime
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks, _resolve_callbacks, set_mocks
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
TEST_SECRET_PREFIX = "test-secret-"

# ---------------------------------------------------------------------------------------------------- recording


@dataclass
class Registration:
    """One RegisterResource the program made: what a provider (or a policy) would have seen."""

    type: str
    name: str
    urn: str
    parent: Optional[str]
    inputs: dict
    outputs: dict
    custom: bool
    # Dotted paths of inputs that arrived as Pulumi secrets ("uploads[2].content", "password").
    secret_inputs: set[str] = field(default_factory=set)
    # Resource options as the engine sees them: protect, dependencies, ignore_changes, provider, ...
    options: dict = field(default_factory=dict)
    id: str = ""

    def is_secret(self, path: str) -> bool:
        """True when the input at `path` (or a parent of it) was a secret."""
        return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in self.secret_inputs)


@dataclass
class Recording:
    """Everything one offline run produced."""

    registrations: list[Registration]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    # urn -> outputs passed to register_outputs (components must call it at the end)
    component_outputs: dict[str, dict] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)

    def by_type(self, type_: str) -> list[Registration]:
        """Registrations of one resource type, in registration order."""
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str) -> Registration:
        """The single registration with this type and logical name (KeyError if absent or ambiguous)."""
        found = [r for r in self.registrations if r.type == type_ and r.name == name]
        if len(found) != 1:
            known = sorted(r.name for r in self.by_type(type_))
            raise KeyError(f"{len(found)} registrations of {type_} named {name!r}; known: {known}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        """The registration with this URN."""
        for r in self.registrations:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def children_of(self, urn: str) -> list[Registration]:
        """Direct children of a resource."""
        return [r for r in self.registrations if r.parent == urn]

    def warnings(self) -> list[str]:
        """Messages the program logged at warning level or above."""
        return [m for level, m in self.logs if level in ("WARNING", "ERROR")]


def _unwrap_secrets(value: Any, path: str, secrets: set[str]) -> Any:
    if rpc.is_rpc_secret(value):
        secrets.add(path)
        return _unwrap_secrets(rpc.unwrap_rpc_secret(value), path, secrets)
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    return value


class RecordingMonitor(MockMonitor):
    """A MockMonitor that records every RegisterResource (type, name, parent, inputs, options) in order."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.component_outputs: dict[str, dict] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        """Answer as the stock MockMonitor does, plus what the engine adds (additionalSecretOutputs), and record it."""
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        _ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        raw_inputs = rpc.deserialize_properties(request.object)
        id_, state = self.mocks.new_resource(MockResourceArgs(
            typ=request.type, name=request.name, inputs=raw_inputs, provider=request.provider,
            resource_id=request.importId, custom=request.custom or False,
            transforms=_resolve_callbacks(request.transforms)))
        # The engine marks these outputs secret (pulumi-tls private keys, pulumi-random results); so do we.
        state = {k: (rpc.wrap_rpc_secret(v) if k in request.additionalSecretOutputs and not rpc.is_rpc_secret(v) else v)
                 for k, v in (state or {}).items()}
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        secrets: set[str] = set()
        inputs = _unwrap_secrets(raw_inputs, "", secrets)
        options = {
            "protect": request.protect if request.HasField("protect") else None,
            "retain_on_delete": request.retainOnDelete if request.HasField("retainOnDelete") else None,
            "dependencies": list(request.dependencies),
            "ignore_changes": list(request.ignoreChanges),
            "replace_on_changes": list(request.replaceOnChanges),
            "additional_secret_outputs": list(request.additionalSecretOutputs),
            "delete_before_replace": request.deleteBeforeReplace,
            "provider": request.provider or None,
            "deleted_with": request.deletedWith or None,
        }
        self.registrations.append(Registration(
            type=request.type, name=request.name, urn=urn, parent=request.parent or None,
            inputs=inputs, outputs=_unwrap_secrets(state, "", set()), custom=bool(request.custom),
            secret_inputs=secrets, options=options, id=id_ or "",
        ))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)

    def RegisterResourceOutputs(self, request):  # noqa: N802
        """Remember what each component passed to register_outputs."""
        self.component_outputs[request.urn] = _unwrap_secrets(rpc.deserialize_properties(request.outputs), "", set())
        return super().RegisterResourceOutputs(request)


# ---------------------------------------------------------------------------------------------- fake provider


def _seed(*parts: str) -> random.Random:
    # Deterministic per resource: two runs of the same program produce the same fake values.
    return random.Random(hashlib.sha256("\0".join(parts).encode()).digest())


def _hex(name: str, n: int) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:n]


class _Pki:
    """Real keys and certificates for the pulumi-tls fakes (so PEMs parse and chains verify)."""

    def __init__(self) -> None:
        self._keys: dict[str, Any] = {}

    def key(self, name: str, algorithm: str) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        if name not in self._keys:
            if algorithm == "RSA":
                # 1024 bits only to keep tests fast; these keys never leave the test process.
                self._keys[name] = rsa.generate_private_key(public_exponent=65537, key_size=1024)
            elif algorithm == "ED25519":
                self._keys[name] = ed25519.Ed25519PrivateKey.generate()
            else:
                self._keys[name] = ec.generate_private_key(ec.SECP256R1())
        return self._keys[name]

    @staticmethod
    def key_pem(key: Any) -> str:
        from cryptography.hazmat.primitives import serialization

        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    @staticmethod
    def public_pem(key: Any) -> str:
        from cryptography.hazmat.primitives import serialization

        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @staticmethod
    def load_key(pem: str) -> Any:
        from cryptography.hazmat.primitives import serialization

        return serialization.load_pem_private_key(pem.encode(), password=None)

    @staticmethod
    def _subject(subject: Any) -> Any:
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        subject = subject or {}
        if isinstance(subject, list):
            subject = subject[0] if subject else {}
        attrs = []
        if subject.get("organization"):
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject["organization"]))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, subject.get("commonName") or "fake"))
        return x509.Name(attrs)

    @staticmethod
    def _sans(dns: list[str], ips: list[str]) -> list[Any]:
        from cryptography import x509

        return [x509.DNSName(d) for d in dns or []] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips or []]

    def sign(self, *, subject: Any, public_key: Any, issuer: Any, issuer_key: Any, hours: int, is_ca: bool,
             dns: list[str], ips: list[str], uses: list[str]) -> tuple[str, str, str]:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import ExtendedKeyUsageOID

        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        end = now + dt.timedelta(hours=hours or 24)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
        sans = self._sans(dns, ips)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        eku = [oid for use, oid in (("server_auth", ExtendedKeyUsageOID.SERVER_AUTH),
                                    ("client_auth", ExtendedKeyUsageOID.CLIENT_AUTH)) if use in (uses or [])]
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        from cryptography.hazmat.primitives.asymmetric import ed25519

        algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        cert = builder.sign(issuer_key, algorithm)
        from cryptography.hazmat.primitives import serialization

        return (cert.public_bytes(serialization.Encoding.PEM).decode(), now.isoformat().replace("+00:00", "Z"),
                end.isoformat().replace("+00:00", "Z"))


class FakeProvider(Mocks):
    """Realistic fake provider answers for docker, tls, random, aws and kubernetes resources and data sources.

    `new_resource` returns every input plus the values the real provider computes (id, name, arn, endpoints, PEMs,
    passwords). `call` answers the data sources this project uses and raises for any other token, so a new data
    source cannot silently get an empty answer: add it to `calls` (token -> function(args) -> dict).
    """

    def __init__(self, *, region: str = DEFAULT_REGION, account_id: str = ACCOUNT_ID,
                 zones: Optional[list[str]] = None,
                 calls: Optional[dict[str, Callable[[dict], dict]]] = None) -> None:
        self.region = region
        self.account_id = account_id
        self.zones = zones or [f"{region}{z}" for z in "abc"]
        self.extra_calls = dict(calls or {})
        self._pki = _Pki()

    # -- resources

    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        """The physical id and output state of a resource: all inputs plus provider-computed outputs."""
        inputs = dict(args.inputs)
        package = args.typ.split(":", 1)[0]
        handler = getattr(self, "_" + package.replace("-", "_"), None)
        id_, computed = handler(args, inputs) if handler else (f"{args.name}-{_hex(args.typ + args.name, 8)}", {})
        state = {**inputs, **computed}
        return (args.resource_id or id_), state

    def _docker(self, args: MockResourceArgs, inputs: dict) -> tuple[str, dict]:
        kind = args.typ.rsplit(":", 1)[-1]
        digest = _hex(args.typ + args.name, 64)
        name = _plain(inputs.get("name")) or args.name
        if kind == "RemoteImage":
            return f"sha256:{digest}{name}", {"imageId": f"sha256:{digest}", "repoDigest": f"{name.split(':')[0]}@sha256:{digest}"}
        if kind == "Network":
            return digest, {"name": name, "scope": "local", "driver": inputs.get("driver", "bridge")}
        if kind == "Volume":
            return name, {"name": name, "mountpoint": f"/var/lib/docker/volumes/{name}/_data", "driver": "local"}
        if kind == "Container":
            networks = [{"networkName": n.get("name"), "ipAddress": f"172.18.0.{i + 2}", "gateway": "172.18.0.1",
                         "ipPrefixLength": 16, "macAddress": f"02:42:ac:12:00:{i + 2:02x}"}
                        for i, n in enumerate(inputs.get("networksAdvanced") or [])]
            return digest, {"name": name, "networkDatas": networks, "exitCode": 0 if inputs.get("mustRun") is False else None}
        return digest, {"name": name}

    def _tls(self, args: MockResourceArgs, inputs: dict) -> tuple[str, dict]:
        kind = args.typ.rsplit(":", 1)[-1]
        pki = self._pki
        plain = _plain(inputs)
        if kind == "PrivateKey":
            algorithm = plain.get("algorithm", "RSA")
            key = pki.key(args.name, algorithm)
            pub = pki.public_pem(key)
            fp = hashlib.sha256(pub.encode()).hexdigest()
            return _hex(pub, 40), {"privateKeyPem": pki.key_pem(key), "privateKeyPemPkcs8": pki.key_pem(key),
                                   "publicKeyPem": pub, "publicKeyOpenssh": f"ssh-fake {fp[:32]}",
                                   "privateKeyOpenssh": pki.key_pem(key), "publicKeyFingerprintMd5": fp[:32],
                                   "publicKeyFingerprintSha256": f"SHA256:{fp}"}
        if kind == "SelfSignedCert":
            key = pki.load_key(plain["privateKeyPem"])
            subject = pki._subject(plain.get("subject"))
            cert, start, end = pki.sign(subject=subject, public_key=key.public_key(), issuer=subject, issuer_key=key,
                                        hours=int(plain.get("validityPeriodHours") or 24),
                                        is_ca=bool(plain.get("isCaCertificate")), dns=plain.get("dnsNames") or [],
                                        ips=plain.get("ipAddresses") or [], uses=plain.get("allowedUses") or [])
            return _hex(cert, 20), {"certPem": cert, "validityStartTime": start, "validityEndTime": end, "readyForRenewal": False}
        if kind == "CertRequest":
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization

            key = pki.load_key(plain["privateKeyPem"])
            builder = x509.CertificateSigningRequestBuilder().subject_name(pki._subject(plain.get("subject")))
            sans = pki._sans(plain.get("dnsNames") or [], plain.get("ipAddresses") or [])
            if sans:
                builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
            csr = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
            return _hex(csr, 20), {"certRequestPem": csr, "keyAlgorithm": "ECDSA"}
        if kind == "LocallySignedCert":
            from cryptography import x509

            csr = x509.load_pem_x509_csr(plain["certRequestPem"].encode())
            ca_cert = x509.load_pem_x509_certificate(plain["caCertPem"].encode())
            ca_key = pki.load_key(plain["caPrivateKeyPem"])
            try:
                san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                dns, ips = san.get_values_for_type(x509.DNSName), [str(i) for i in san.get_values_for_type(x509.IPAddress)]
            except x509.ExtensionNotFound:
                dns, ips = [], []
            cert, start, end = pki.sign(subject=csr.subject, public_key=csr.public_key(), issuer=ca_cert.subject,
                                        issuer_key=ca_key, hours=int(plain.get("validityPeriodHours") or 24),
                                        is_ca=bool(plain.get("isCaCertificate")), dns=dns, ips=ips,
                                        uses=plain.get("allowedUses") or [])
            return _hex(cert, 20), {"certPem": cert, "validityStartTime": start, "validityEndTime": end,
                                    "readyForRenewal": False, "caKeyAlgorithm": "ECDSA"}
        return _hex(args.name, 20), {}

    def _random(self, args: MockResourceArgs, inputs: dict) -> tuple[str, dict]:
        kind = args.typ.rsplit(":", 1)[-1]
        plain = _plain(inputs)
        rng = _seed(args.typ, args.name)
        if kind in ("RandomPassword", "RandomString"):
            alphabet = ""
            if plain.get("upper", True):
                alphabet += string.ascii_uppercase
            if plain.get("lower", True):
                alphabet += string.ascii_lowercase
            if plain.get("numeric", True):
                alphabet += string.digits
            if plain.get("special", True):
                alphabet += plain.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
            value = "".join(rng.choice(alphabet) for _ in range(int(plain.get("length", 16))))
            # Secrecy comes from the resource's additionalSecretOutputs, applied by RecordingMonitor like the engine.
            computed: dict[str, Any] = {"result": value}
            if kind == "RandomPassword":
                computed["bcryptHash"] = "$2a$10$" + _hex(value, 53)
            return "none", computed
        if kind == "RandomId":
            raw = bytes(rng.getrandbits(8) for _ in range(int(plain.get("byteLength", 8))))
            return raw.hex(), {"hex": raw.hex(), "dec": str(int.from_bytes(raw, "big")), "b64Url": raw.hex(), "b64Std": raw.hex()}
        if kind == "RandomUuid":
            return "", {"result": "%08x-0000-4000-8000-%012x" % (rng.getrandbits(32), rng.getrandbits(48))}
        if kind == "RandomInteger":
            value = rng.randint(int(plain.get("min", 0)), int(plain.get("max", 100)))
            return str(value), {"result": value}
        return _hex(args.name, 20), {}

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def _aws(self, args: MockResourceArgs, inputs: dict) -> tuple[str, dict]:
        module, kind = args.typ.split(":")[1].split("/")[0], args.typ.rsplit(":", 1)[-1]
        name = _plain(inputs.get("name")) or args.name
        h = _hex(args.typ + args.name, 17)
        computed: dict[str, Any] = {"tagsAll": inputs.get("tags") or {}}
        if module == "elasticache" and kind == "ReplicationGroup":
            gid = _plain(inputs.get("replicationGroupId")) or args.name
            port = _plain(inputs.get("port")) or 6379
            clustered = _plain(inputs.get("numNodeGroups")) or 0
            host = f"{gid}.{h[:6]}.ng.0001.{_short(self.region)}.cache.amazonaws.com"
            computed.update({"arn": self._arn("elasticache", f"replicationgroup:{gid}"), "port": port,
                             "memberClusters": [f"{gid}-{i:03d}" for i in range(1, 4)], "clusterEnabled": bool(clustered)})
            if clustered:
                computed["configurationEndpointAddress"] = f"clustercfg.{host}"
            else:
                computed["primaryEndpointAddress"] = f"master.{host}"
                computed["readerEndpointAddress"] = f"replica.{host}"
            return gid, computed
        if module == "elasticache" and kind == "ServerlessCache":
            # AWS reports one endpoint for writes (6379) and one for replica reads (6380).
            host = f"{name}-{h[:6]}.serverless.{_short(self.region)}.cache.amazonaws.com"
            computed.update({"arn": self._arn("elasticache", f"serverlesscache:{name}"),
                             "endpoints": [{"address": host, "port": 6379}],
                             "readerEndpoints": [{"address": host, "port": 6380}]})
            return name, computed
        if module == "elasticache":
            computed["arn"] = self._arn("elasticache", f"{kind[0].lower() + kind[1:]}:{name}")
            return name, computed
        if module == "ec2":
            prefix = {"Instance": "i", "SecurityGroup": "sg", "Subnet": "subnet", "Vpc": "vpc", "LaunchTemplate": "lt",
                      "NetworkInterface": "eni", "Volume": "vol", "SecurityGroupRule": "sgrule"}.get(kind, kind.lower())
            id_ = f"{prefix}-{h}"
            computed["arn"] = self._arn("ec2", f"{kind.lower()}/{id_}")
            if kind == "Instance":
                octet = int(h[:2], 16)
                computed.update({"privateIp": f"10.0.{octet % 250}.{octet % 200 + 10}",
                                 "privateDns": f"ip-10-0-{octet % 250}-{octet % 200 + 10}.ec2.internal",
                                 "instanceState": "running", "primaryNetworkInterfaceId": f"eni-{h}"})
            if kind == "LaunchTemplate":
                computed["latestVersion"] = 1
            return id_, computed
        if module == "kms" and kind == "Key":
            key_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[1:4]}-{h[:12]}"
            computed.update({"arn": self._arn("kms", f"key/{key_id}"), "keyId": key_id})
            return key_id, computed
        if module == "kms" and kind == "Alias":
            computed.update({"arn": self._arn("kms", name), "targetKeyArn": self._arn("kms", "key/" + str(_plain(inputs.get("targetKeyId"))))})
            return name, computed
        if module == "iam":
            computed.update({"arn": f"arn:aws:iam::{self.account_id}:{kind[0].lower() + kind[1:]}/{name}", "name": name,
                             "uniqueId": f"AROA{h.upper()}"})
            return name, computed
        if module == "cloudwatch":
            computed.update({"arn": self._arn("logs" if kind == "LogGroup" else "cloudwatch", f"{'log-group' if kind == 'LogGroup' else 'alarm'}:{name}"), "name": name})
            return name, computed
        if module == "ssm":
            computed.update({"arn": self._arn("ssm", f"parameter{name if str(name).startswith('/') else '/' + name}"), "name": name, "version": 1})
            return name, computed
        if module == "secretsmanager":
            arn = self._arn("secretsmanager", f"secret:{name}-{h[:6]}")
            computed.update({"arn": arn, "name": name})
            return arn, computed
        if module == "route53":
            computed.update({"fqdn": _plain(inputs.get("name")) or name, "nameServers": ["ns-1.awsdns-00.com"],
                             "zoneId": f"Z{h.upper()}"})
            return f"Z{h.upper()}", computed
        computed.update({"arn": self._arn(module, f"{kind.lower()}/{name}")})
        return f"{name}-{h[:8]}", computed

    def _kubernetes(self, args: MockResourceArgs, inputs: dict) -> tuple[str, dict]:
        metadata = dict(_plain(inputs.get("metadata")) or {})
        metadata.setdefault("name", args.name)
        kind = args.typ.rsplit(":", 1)[-1]
        namespaced = kind not in ("Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PriorityClass",
                                  "CustomResourceDefinition")
        if namespaced:
            metadata.setdefault("namespace", "default")
        metadata.setdefault("uid", _hex(args.typ + args.name, 32))
        computed: dict[str, Any] = {"metadata": metadata}
        if kind == "Service":
            spec = dict(_plain(inputs.get("spec")) or {})
            if spec.get("clusterIP") != "None":
                spec.setdefault("clusterIP", f"10.96.{int(_hex(args.name, 2), 16)}.{int(_hex(args.name + 'x', 2), 16) % 250 + 1}")
            computed["spec"] = spec
        ident = f"{metadata['namespace']}/{metadata['name']}" if namespaced else metadata["name"]
        return ident, computed

    # -- data sources

    def call(self, args: MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        """Answer a data source; unknown tokens raise so the test shows which answer is missing."""
        token = args.token
        a = _plain(dict(args.args))
        if token in self.extra_calls:
            return self.extra_calls[token](a), []
        short = _short(self.region)
        answers: dict[str, Callable[[], dict]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "id": self.region, "names": list(self.zones), "zoneIds": [f"{short}-az{i + 1}" for i in range(len(self.zones))],
                "groupNames": [self.region], "state": a.get("state", "available")},
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "id": self.account_id, "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/test", "userId": "AIDATESTUSER"},
            "aws:index/getRegion:getRegion": lambda: {
                "id": self.region, "name": self.region, "region": self.region, "description": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com"},
            "aws:index/getPartition:getPartition": lambda: {
                "id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"},
            "aws:ec2/getVpc:getVpc": lambda: {
                "id": a.get("id") or "vpc-0default0000000", "arn": self._arn("ec2", "vpc/vpc-0default0000000"),
                "cidrBlock": "10.0.0.0/16", "default": bool(a.get("default", True)), "ownerId": self.account_id},
            "aws:ec2/getSubnets:getSubnets": lambda: {
                "id": self.region, "ids": [f"subnet-0{z[-1]}{'0' * 15}" for z in self.zones]},
            "aws:ec2/getSubnet:getSubnet": lambda: {
                "id": a.get("id") or f"subnet-0a{'0' * 15}", "vpcId": "vpc-0default0000000",
                "availabilityZone": self.zones[0], "cidrBlock": "10.0.1.0/24"},
            "aws:ec2/getAmi:getAmi": lambda: {
                "id": "ami-0fake00000000000", "imageId": "ami-0fake00000000000", "architecture": "arm64",
                "arn": self._arn("ec2", "image/ami-0fake00000000000"), "name": "al2023-ami-fake"},
            "aws:kms/getKey:getKey": lambda: {
                "id": a.get("keyId"), "keyId": a.get("keyId"), "arn": self._arn("kms", f"key/{a.get('keyId')}"),
                "enabled": True, "keyManager": "CUSTOMER"},
            "aws:kms/getAlias:getAlias": lambda: {
                "id": a.get("name"), "name": a.get("name"), "arn": self._arn("kms", str(a.get("name"))),
                "targetKeyId": "00000000-0000-4000-8000-000000000000",
                "targetKeyArn": self._arn("kms", "key/00000000-0000-4000-8000-000000000000")},
            "aws:iam/getPolicyDocument:getPolicyDocument": lambda: {
                "id": "policy", "json": json.dumps({"Version": "2012-10-17", "Statement": a.get("statements") or []}),
                "minifiedJson": json.dumps({"Version": "2012-10-17", "Statement": a.get("statements") or []})},
        }
        if token not in answers:
            raise NotImplementedError(f"FakeProvider has no answer for data source {token}; add it to FakeProvider(calls=...)")
        return answers[token](), []


def _short(region: str) -> str:
    parts = region.split("-")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1] if len(parts) >= 3 else region


def _plain(value: Any) -> Any:
    """The value with Pulumi secret wrappers removed (providers see plaintext)."""
    return _unwrap_secrets(value, "", set())


# ----------------------------------------------------------------------------------------------- stack config


def _config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _replace_secure(value: Any, key: str, secret_keys: set[str]) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        secret_keys.add(key)
        return TEST_SECRET_PREFIX + key.replace(":", "-").replace(".", "-")
    if isinstance(value, dict):
        return {k: _replace_secure(v, key, secret_keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v, key, secret_keys) for v in value]
    return value


def stack_config_with_secrets(path: str | os.PathLike[str], project: str = "redis-infra") -> tuple[dict[str, str], set[str]]:
    """Like `stack_config`, plus the set of keys whose values were secure (and were replaced by test secrets)."""
    document = yaml.safe_load(Path(path).read_text()) or {}
    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in (document.get("config") or {}).items():
        full = key if ":" in str(key) else f"{project}:{key}"
        config[full] = _config_text(_replace_secure(value, full, secret_keys))
    return config, secret_keys


def stack_config(path: str | os.PathLike[str], project: str = "redis-infra") -> dict[str, str]:
    """The config of a real `Pulumi.<stack>.yaml` as the runtime holds it: "ns:key" -> text (objects as JSON).

    Keys without a namespace get the project's, as Pulumi does; `secure:` values become `test-secret-<key>`.
    """
    return stack_config_with_secrets(path, project)[0]


# -------------------------------------------------------------------------------------------------- running


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append((record.levelname, record.getMessage()))


def run_program(program: Callable[[], None], config: dict[str, str], *, stack: str = "dev",
                project: str = "redis-infra", mocks: Optional[Mocks] = None, preview: bool = False,
                secret_keys: Optional[list[str]] = None) -> Recording:
    """Run `program` offline under a RecordingMonitor + FakeProvider and return what it registered and exported.

    Exceptions from the program (including `pulumi.RunError` for bad config) propagate after the runtime state has
    been restored, so the caller can assert on them.
    """
    try:
        previous_loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        previous_loop = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The core reads config via PULUMI_CONFIG (what the language host sets); pulumi.Config reads set_all_config.
    saved_env = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(config))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys or []))
    logs: list[tuple[str, str]] = []
    logger = logging.Logger("redisinfra.mocks")
    logger.addHandler(_ListHandler(logs))
    try:
        pulumi.runtime.reset_options(project=project, stack=stack, preview=preview)
        set_all_config(dict(config), list(secret_keys or []))
        fake = mocks if mocks is not None else FakeProvider(region=config.get("aws:region", DEFAULT_REGION))
        monitor = RecordingMonitor(fake)
        set_mocks(fake, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor)
        loop.run_until_complete(run_pulumi_func(program))
        outputs: dict[str, Any] = {}
        secret_outputs: set[str] = set()
        root = get_root_resource()
        for name, value in dict(getattr(root, "outputs", {}) or {}).items():
            output = pulumi.Output.from_input(value)
            outputs[name] = loop.run_until_complete(output.future(with_unknowns=True))
            if loop.run_until_complete(output.is_secret()):
                secret_outputs.add(name)
        return Recording(registrations=list(monitor.registrations), outputs=outputs, secret_outputs=secret_outputs,
                         component_outputs=dict(monitor.component_outputs), logs=logs)
    finally:
        pulumi.runtime.reset_options()
        set_all_config({}, [])
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        loop.close()
        asyncio.set_event_loop(previous_loop if previous_loop is not None and not previous_loop.is_closed() else None)
