"""Checks docker-compose.yml against the Dockerfile and the daemons' deployment configurations
(no Docker engine needed): services, build contexts, volumes, ports and health checks.
Usage: compose_check.py REPOSITORY_ROOT. Prints every problem; exit 1 if any."""

import os
import re
import sys
import tomllib

import yaml

root = sys.argv[1]
problems = []


def problem(text):
    problems.append(text)


with open(os.path.join(root, "docker-compose.yml")) as file:
    compose = yaml.safe_load(file)
services = compose.get("services", {})
declared_volumes = set((compose.get("volumes") or {}).keys())

for name in ["pki", "registry", "repository", "conformance", "conformance-registry", "conformance-repository"]:
    if name not in services:
        problem(f"service {name} is missing")

# Build contexts and what the Dockerfile copies.
copies = {}
for name, service in services.items():
    build = service.get("build")
    if not build:
        problem(f"{name}: no build section (every service runs the project's image)")
        continue
    context = os.path.join(root, build.get("context", "."))
    dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
    if not os.path.isfile(dockerfile):
        problem(f"{name}: {dockerfile} does not exist")
        continue
    with open(dockerfile) as file:
        text = file.read()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE)
    if len(stages) < 2:
        problem("the Dockerfile is not multi-stage")
    runtime = text.split("FROM ")[-1]
    user = re.findall(r"^USER\s+(\S+)", runtime, re.MULTILINE)
    if not user or user[-1].split(":")[0] in ("0", "root"):
        problem("the runtime stage does not switch to a non-root user")
    for source, target in re.findall(r"^COPY\s+(?!--from)(\S+)\s+(\S+)", text, re.MULTILINE):
        if source == ".":
            continue
        if not os.path.exists(os.path.join(context, source)):
            problem(f"the Dockerfile copies {source}, which does not exist")
        copies[target] = os.path.join(context, source)
    for port in re.findall(r"^EXPOSE\s+(.*)$", text, re.MULTILINE):
        exposed = set(port.split())
    if service.get("profiles") and service["profiles"] != ["conformance"]:
        problem(f"{name}: unexpected profiles {service['profiles']}")

for name in ["conformance", "conformance-registry", "conformance-repository"]:
    if services.get(name, {}).get("profiles") != ["conformance"]:
        problem(f"{name} must be in the optional conformance profile")
for name in ["pki", "registry", "repository"]:
    if services.get(name, {}).get("profiles"):
        problem(f"{name} must start with a plain docker compose up")


def mounts(service):
    out = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        source, target = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else "rw"
        out[target] = (source, mode)
        if not source.startswith(("/", ".", "$")) and source not in declared_volumes:
            problem(f"volume {source} is used but not declared")
    return out


def under(path, mounted):
    return any(path == target or path.startswith(target.rstrip("/") + "/") for target in mounted)


def port_of(address):
    return int(address.rsplit(":", 1)[1])


pki = services.get("pki", {})
pki_mounts = mounts(pki)
pki_target = next((target for target, (source, _) in pki_mounts.items() if source == "pki"), None)
if pki_target is None:
    problem("the pki job does not mount the pki volume")
pki_command = " ".join(pki.get("command", []))
if "pki init" not in pki_command:
    problem("the pki job does not run `xds-conformance pki init`")

for daemon, binary, env in [("registry", "xds-registry", "XDS_REGISTRY_CONFIG"), ("repository", "xds-repository", "XDS_REPOSITORY_CONFIG")]:
    service = services.get(daemon)
    if service is None:
        continue
    config_path = service.get("environment", {}).get(env)
    if config_path not in copies:
        problem(f"{daemon}: {env}={config_path} is not a file the Dockerfile copies")
        continue
    with open(copies[config_path], "rb") as file:
        config = tomllib.load(file)
    server = config.get("server", {})
    listeners = {key: port_of(server[key]) for key in ["listen", "grpc_listen", "mllp_listen", "admin_listen"] if key in server}
    published = {}
    for mapping in service.get("ports", []):
        host, container = str(mapping).rsplit(":", 1)
        published[int(container)] = int(host.rsplit(":", 1)[-1])
    for key, port in listeners.items():
        if port not in published:
            problem(f"{daemon}: server.{key} port {port} is not published")
        if str(port) not in exposed:
            problem(f"{daemon}: port {port} is not EXPOSEd by the Dockerfile")
    for port in published:
        if port not in listeners.values():
            problem(f"{daemon}: published port {port} is no listener of {config_path}")
    if "admin_listen" not in server:
        problem(f"{daemon}: no admin listener, so no health check")
    health = service.get("healthcheck", {}).get("test", [])
    if health[:3] != ["CMD", binary, "health"]:
        problem(f"{daemon}: the health check is not `{binary} health` ({health})")
    volume_mounts = mounts(service)
    storage = config.get("storage", {})
    for key in ["data_dir", "backup_dir"]:
        if key not in storage or not under(storage[key], volume_mounts):
            problem(f"{daemon}: storage.{key} ({storage.get(key)}) is not on a volume")
    tls = config.get("tls", {})
    for key in ["certificate", "private_key", "trust_anchors"]:
        path = tls.get(key)
        if not path or pki_target is None or not path.startswith(pki_target + "/"):
            problem(f"{daemon}: tls.{key} ({path}) is not in the pki volume")
    pki_mount = volume_mounts.get(pki_target) if pki_target else None
    if pki_mount != ("pki", "ro"):
        problem(f"{daemon}: the pki volume is not mounted read-only at {pki_target}")
    if f"--host {daemon}" not in pki_command:
        problem(f"the pki job does not name {daemon} in the daemons' certificates")
    if daemon == "registry":
        registry_port = listeners.get("listen")
        registry_path = server.get("soap_path", "/xds/registry")
        if service.get("depends_on", {}).get("pki", {}).get("condition") != "service_completed_successfully":
            problem("registry does not wait for the pki job")
    else:
        url = config.get("repository", {}).get("registry_url", "")
        expected = f"https://registry:{registry_port}{registry_path}"
        if url != expected:
            problem(f"repository: registry_url {url} is not {expected}")
        if service.get("depends_on", {}).get("registry", {}).get("condition") != "service_healthy":
            problem("repository does not wait for a healthy registry")

harness = " ".join(services.get("conformance", {}).get("command", []))
for flag in ["--registry http://conformance-registry:", "--repository http://conformance-repository:", "--mllp conformance-registry:"]:
    if flag not in harness:
        problem(f"the harness is not pointed at its pair ({flag})")

for text in problems:
    print(text)
sys.exit(1 if problems else 0)
