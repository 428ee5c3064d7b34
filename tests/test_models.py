"""Tests of the msgspec models: decoding real-shaped Engine responses, encoding request bodies,
and checking every wire name against the Engine API specs (1.41 and 1.56)."""

from __future__ import annotations

import ast
import functools
import importlib
import io
import os
import pkgutil
import re
import tokenize
import types
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

import aiodockersock.models as models
from aiodockersock.models import (
    CHANGE_ADDED,
    CHANGE_DELETED,
    CHANGE_MODIFIED,
    BuildCacheRecord,
    ContainerCreateBody,
    ContainerCreateResponse,
    ContainerInspect,
    ContainerPruneResponse,
    ContainerResources,
    ContainerSummary,
    ContainerTopResponse,
    ContainerUpdateResponse,
    ContainerWaitResponse,
    EndpointSettings,
    FilesystemChange,
    HealthConfig,
    HostConfig,
    ImageSummary,
    LogConfig,
    Model,
    Mount,
    NetworkingConfig,
    PingInfo,
    PortBinding,
    RestartPolicy,
    SystemDataUsage,
    SystemInfo,
    SystemVersion,
    ThrottleDevice,
    TmpfsOptions,
    Volume,
)


def _spec_dir() -> Path:
    """The Engine API specs: ``shared/engine-api`` beside the checkout (as in CI)."""
    for candidate in (
        Path(os.environ.get("AIODOCKERSOCK_SPEC_DIR", "/nonexistent")),
        Path(__file__).resolve().parents[2] / "shared" / "engine-api",
        Path("/work/shared/engine-api"),
    ):
        if (candidate / "v1.56.yaml").is_file():
            return candidate
    return Path("/nonexistent")


SPEC_DIR = _spec_dir()
# Every module of Engine structs (``events``, ``fleet``, ``output`` and ``buildkit`` hold the
# client's own types).
MY_MODULES = [
    importlib.import_module(f"aiodockersock.models.{info.name}")
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda i: i.name)
    if not info.name.startswith("_") and info.name not in ("events", "fleet", "output", "buildkit")
]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def unmatched_keys(raw: Any, tp: Any, path: str = "$") -> list[str]:
    """JSON object keys in ``raw`` that no struct field of ``tp`` decodes (recursively).

    A misspelled rename shows up here: the Engine's real key is left unmatched (and the field
    silently stays None). Unknown keys from newer daemons show up too; tests list those.
    """
    info = tp if isinstance(tp, mi.Type) else mi.type_info(tp)
    if isinstance(info, mi.UnionType):
        for sub in info.types:
            if isinstance(sub, mi.StructType | mi.DictType) and isinstance(raw, dict):
                return unmatched_keys(raw, sub, path)
            if isinstance(sub, mi.ListType) and isinstance(raw, list):
                return unmatched_keys(raw, sub, path)
        return []
    out: list[str] = []
    if isinstance(info, mi.StructType) and isinstance(raw, dict):
        by_name = {f.encode_name: f for f in info.fields}
        for key, value in raw.items():
            if key not in by_name:
                out.append(f"{path}.{key}")
            elif value is not None:
                out += unmatched_keys(value, by_name[key].type, f"{path}.{key}")
    elif isinstance(info, mi.ListType) and isinstance(raw, list):
        for i, item in enumerate(raw):
            out += unmatched_keys(item, info.item_type, f"{path}[{i}]")
    elif isinstance(info, mi.DictType) and isinstance(raw, dict):
        for key, value in raw.items():
            if value is not None:
                out += unmatched_keys(value, info.value_type, f"{path}[{key!r}]")
    return out


def decode(doc: bytes, tp: Any, unknown: tuple[str, ...] = ()) -> Any:
    """Decode ``doc`` as ``tp`` and check that only the ``unknown`` keys were dropped."""
    assert sorted(unmatched_keys(msgspec.json.decode(doc), tp)) == sorted(unknown)
    return msgspec.json.decode(doc, type=tp)


def all_struct_classes() -> list[type[Model]]:
    classes = {
        obj
        for module in MY_MODULES
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Model) and obj is not Model
    }
    return sorted(classes, key=lambda c: c.__name__)


# ---------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then CamelCase, then the rest, each sorted."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_module_all_is_sorted_and_complete() -> None:
    for module in [*MY_MODULES, models]:
        names = module.__all__
        assert names == sorted(names, key=_isort_key), module.__name__
        for name in names:
            assert hasattr(module, name), (module.__name__, name)
    for module in MY_MODULES:
        defined = {
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and getattr(obj, "__module__", None) == module.__name__
            and isinstance(obj, type)
        }
        assert defined <= set(module.__all__), module.__name__
        assert set(module.__all__) <= set(models.__all__), module.__name__
    assert "Model" in models.__all__


def test_every_field_defaults_to_none_and_struct_is_frozen() -> None:
    for cls in all_struct_classes():
        assert cls.__doc__, cls.__name__
        assert cls.__struct_config__.frozen, cls.__name__
        assert cls.__struct_config__.omit_defaults, cls.__name__
        for field in msgspec.structs.fields(cls):
            assert field.default is None, (cls.__name__, field.name)
            assert isinstance(field.type, types.UnionType), (cls.__name__, field.name)
            assert type(None) in field.type.__args__, (cls.__name__, field.name)
        # An empty struct encodes to an empty object: nothing is sent that was not set.
        assert msgspec.json.encode(cls()) == b"{}"


def test_structs_are_frozen() -> None:
    body = ContainerCreateBody(image="x")
    with pytest.raises(AttributeError):
        body.image = "y"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Struct options, written once on Model
# ---------------------------------------------------------------------------------------------

#: The exported Structs that are not Models: the client's own types.
PLAIN_STRUCTS = {
    "BuildLog", "BuildStatus", "BuildVertex", "BuildVertexStatus", "BuildWarning",
    "ContainerLogs", "EventGap", "ExecResult", "HostDown", "HostEvent", "HostGap", "HostUp",
    "LogFrame", "LogLine", "PathStat", "PushResult", "RunResult",
}
#: The exported Structs that refuse positional arguments. msgspec applies ``kw_only`` to the
#: fields a class defines itself, so Model's own ``kw_only=True`` does not reach its subclasses.
KEYWORD_ONLY = {"PushResult"}
#: Options Model sets once for every subclass (``rename`` may be overridden: stats, progress).
MODEL_OPTIONS = {"frozen", "kw_only", "omit_defaults"}


def exported_structs() -> list[type[msgspec.Struct]]:
    return sorted(
        {
            obj
            for obj in (getattr(models, name) for name in models.__all__)
            if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj is not Model
        },
        key=lambda c: c.__name__,
    )


def with_nones(cls: type[msgspec.Struct]) -> Any:
    """An instance with every field ``None`` (``__init__`` does not check types)."""
    return cls(**{field.name: None for field in msgspec.structs.fields(cls)})


def test_struct_options_reach_every_exported_struct() -> None:
    structs = exported_structs()
    assert {c.__name__ for c in structs if not issubclass(c, Model)} == PLAIN_STRUCTS
    for cls in structs:
        config, instance = cls.__struct_config__, with_nones(cls)
        assert config.frozen and config.eq, cls.__name__
        for name in cls.__struct_fields__:
            with pytest.raises(AttributeError):
                setattr(instance, name, None)
        assert hash(instance) == hash(with_nones(cls)), cls.__name__
        assert instance == with_nones(cls), cls.__name__
        try:
            cls(*[None] * len(cls.__struct_fields__))
        except TypeError:
            keyword_only = True
        else:
            keyword_only = False
        assert keyword_only == (cls.__name__ in KEYWORD_ONLY), cls.__name__
        if issubclass(cls, Model):
            assert config.omit_defaults, cls.__name__
            assert msgspec.json.encode(cls()) == b"{}", cls.__name__


def model_sources() -> list[Path]:
    return sorted(Path(models.__file__).parent.glob("*.py"))


def struct_class_defs(path: Path) -> list[tuple[ast.ClassDef, type[msgspec.Struct]]]:
    """The Struct classes defined in one module of models/, as parsed and as imported."""
    name = "aiodockersock.models" + ("" if path.stem == "__init__" else f".{path.stem}")
    module = importlib.import_module(name)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            cls = getattr(module, node.name, None)
            if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
                found.append((node, cls))
    return found


def test_model_subclasses_do_not_repeat_model_options() -> None:
    repeated = [
        f"{path.name}:{node.lineno} {keyword.arg}"
        for path in model_sources()
        for node, cls in struct_class_defs(path)
        if cls is not Model and issubclass(cls, Model)
        for keyword in node.keywords
        if keyword.arg in MODEL_OPTIONS
    ]
    assert repeated == []


def field_comments(source: str, struct_names: set[str]) -> list[int]:
    """Lines of comments on a field of the named classes or directly above one: notes pdoc
    does not show (a string literal after the field is its docstring). Pragmas pass."""
    comments = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
        and not re.match(r"#\s*(type:|noqa|pragma)", token.string)
    }
    found: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name in struct_names:
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign):
                    found |= comments.intersection(
                        range(stmt.lineno - 1, (stmt.end_lineno or stmt.lineno) + 1)
                    )
    return sorted(found)


def test_field_notes_are_docstrings() -> None:
    misplaced = []
    for path in model_sources():
        names = {node.name for node, _ in struct_class_defs(path)}
        misplaced += [f"{path.name}:{line}" for line in field_comments(path.read_text(), names)]
    assert misplaced == []


def test_field_comments_finds_notes() -> None:
    source = """
class A(Model):
    # a note above
    a: int | None = None
    b: str | None = None  # a note beside
    c: int | None = msgspec.field(
        default=None, name="C"  # a note within
    )
    d: int | None = None  # type: ignore[assignment]
    e: int | None = None
    \"\"\"A docstring.\"\"\"

    # a comment before a method is no field note

    def f(self) -> None: ...


class Plain:
    # not a Struct
    X: int = 1
"""
    assert field_comments(source, {"A"}) == [3, 5, 7]


# ---------------------------------------------------------------------------------------------
# Wire names against the specs
# ---------------------------------------------------------------------------------------------


@functools.cache
def spec_text() -> str:
    if not SPEC_DIR.is_dir():
        pytest.skip("the Engine API specs (shared/engine-api beside the checkout) are absent; "
                    "set AIODOCKERSOCK_SPEC_DIR to check wire names against them")
    return "\n".join((SPEC_DIR / f"v{v}.yaml").read_text() for v in ("1.41", "1.56"))


# (class name, wire name) -> why it is not a property name in either spec.
WIRE_NAME_ALLOW_LIST: dict[tuple[str, str], str] = {
    ("PingInfo", "Libpod-Api-Version"): "Podman's service names itself in this header",
    ("Service", "PreviousSpec"): "dockerd sends the spec before the last update; the spec omits it",
}


def test_every_wire_name_is_in_a_spec() -> None:
    text = spec_text()
    missing = []
    for cls in all_struct_classes():
        for field in msgspec.structs.fields(cls):
            name = field.encode_name
            if (cls.__name__, name) in WIRE_NAME_ALLOW_LIST:
                continue
            if not re.search(rf'^\s*"?{re.escape(name)}"?:', text, re.MULTILINE):
                missing.append(f"{cls.__name__}.{field.name} -> {name!r}")
    assert missing == []


# Where each struct is defined in the specs: "Definition", "Definition.Prop.Prop" (into inline
# objects, through $ref, allOf, arrays and maps), "response:/path:method" or
# "body:/path:method". A locator may resolve in one spec only; it must resolve in one.
SPEC_LOCATIONS: dict[str, list[str]] = {
    "Address": ["Address"],
    "AddressPool": ["SystemInfo.DefaultAddressPools"],
    "AttestationStatement": ["AttestationStatement"],
    "AuthResponse": ["AuthResponse", "response:/auth:post"],
    "BindOptions": ["Mount.BindOptions"],
    "BuildCacheDiskUsage": ["BuildCacheDiskUsage"],
    "BuildCacheRecord": ["BuildCache"],
    "BuildPruneResponse": ["response:/build/prune:post"],
    "CAConfig": ["SwarmSpec.CAConfig"],
    "ClusterInfo": ["ClusterInfo"],
    "ClusterVolume": ["ClusterVolume"],
    "ClusterVolumeAccessMode": ["ClusterVolumeSpec.AccessMode"],
    "ClusterVolumeCapacityRange": ["ClusterVolumeSpec.AccessMode.CapacityRange"],
    "ClusterVolumeInfo": ["ClusterVolume.Info"],
    "ClusterVolumePublishStatus": ["ClusterVolume.PublishStatus"],
    "ClusterVolumeSecret": ["ClusterVolumeSpec.AccessMode.Secrets"],
    "ClusterVolumeSpec": ["ClusterVolumeSpec"],
    "ClusterVolumeTopologyRequirement": ["ClusterVolumeSpec.AccessMode.AccessibilityRequirements"],
    "ClusterVolumeUpdateBody": ["body:/volumes/{name}:put"],
    "ClusterVolumeVersion": ["ObjectVersion"],
    "Commit": ["Commit"],
    "ComponentVersion": ["SystemVersion.Components"],
    "Config": ["Config"],
    "ConfigReference": ["ConfigReference"],
    "ConfigSpec": ["ConfigSpec"],
    "ContainerBlkioStatEntry": ["ContainerBlkioStatEntry"],
    "ContainerBlkioStats": ["ContainerBlkioStats"],
    "ContainerCPUStats": ["ContainerCPUStats"],
    "ContainerCPUUsage": ["ContainerCPUUsage"],
    "ContainerCommitResponse": ["response:/commit:post"],
    "ContainerConfig": ["ContainerConfig"],
    "ContainerCreateBody": ["body:/containers/create:post"],
    "ContainerCreateResponse": ["response:/containers/create:post"],
    "ContainerHealth": ["Health"],
    "ContainerInspect": ["response:/containers/{id}/json:get"],
    "ContainerMemoryStats": ["ContainerMemoryStats"],
    "ContainerNetworkStats": ["ContainerNetworkStats"],
    "ContainerPidsStats": ["ContainerPidsStats"],
    "ContainerPruneResponse": ["response:/containers/prune:post"],
    "ContainerResources": ["body:/containers/{id}/update:post"],
    "ContainerSpec": ["TaskSpec.ContainerSpec"],
    "ContainerState": ["ContainerState"],
    "ContainerStats": ["ContainerStatsResponse"],
    "ContainerStorage": ["Storage"],
    "ContainerStorageStats": ["ContainerStorageStats"],
    "ContainerSummary": ["ContainerSummary"],
    "ContainerSummaryHealth": ["ContainerSummary.Health"],
    "ContainerSummaryHostConfig": ["ContainerSummary.HostConfig"],
    "ContainerSummaryNetworkSettings": ["ContainerSummary.NetworkSettings"],
    "ContainerThrottlingData": ["ContainerThrottlingData"],
    "ContainerTopResponse": ["response:/containers/{id}/top:get"],
    "ContainerUpdateResponse": ["response:/containers/{id}/update:post"],
    "ContainerWaitExitError": ["ContainerWaitExitError"],
    "ContainerWaitResponse": ["ContainerWaitResponse"],
    "ContainerdInfo": ["ContainerdInfo"],
    "ContainerdNamespaces": ["ContainerdInfo.Namespaces"],
    "ContainersDiskUsage": ["ContainersDiskUsage"],
    "DeviceInfo": ["DeviceInfo"],
    "DeviceMapping": ["DeviceMapping"],
    "DeviceRequest": ["DeviceRequest"],
    "DiscreteResourceSpec": ["GenericResources.DiscreteResourceSpec"],
    "DistributionInspect": ["DistributionInspect", "response:/distribution/{name}/json:get"],
    "DispatcherConfig": ["SwarmSpec.Dispatcher"],
    "DriverConfig": ["Mount.VolumeOptions.DriverConfig"],
    "DriverData": ["DriverData", "GraphDriverData"],
    "EncryptionConfig": ["SwarmSpec.EncryptionConfig"],
    "EndpointIPAMConfig": ["EndpointIPAMConfig"],
    "EndpointPortConfig": ["EndpointPortConfig"],
    "EndpointSettings": ["EndpointSettings"],
    "EndpointSpec": ["EndpointSpec"],
    "EngineDescription": ["EngineDescription"],
    "EnginePlugin": ["EngineDescription.Plugins"],
    "ErrorDetail": ["ErrorDetail"],
    "ExecCreateBody": ["body:/containers/{id}/exec:post"],
    "ExecCreateResponse": ["response:/containers/{id}/exec:post"],
    "ExecInspect": ["response:/exec/{id}/json:get"],
    "ExecStartBody": ["body:/exec/{id}/start:post"],
    "ExternalCA": ["SwarmSpec.CAConfig.ExternalCAs"],
    "FilesystemChange": ["response:/containers/{id}/changes:get"],
    "FirewallInfo": ["FirewallInfo"],
    "GenericResource": ["GenericResources"],
    "HealthConfig": ["HealthConfig"],
    "HealthcheckResult": ["HealthcheckResult"],
    "HistoryResponseItem": ["ImageHistoryResponseItem"],
    "HostConfig": ["HostConfig"],
    "IPAM": ["IPAM"],
    "IPAMConfig": ["IPAMConfig"],
    "ImageDeleteResponseItem": ["ImageDeleteResponseItem"],
    "ImageInspect": ["ImageInspect"],
    "ImageMetadata": ["ImageInspect.Metadata"],
    "ImageOptions": ["Mount.ImageOptions"],
    "ImagePruneResponse": ["response:/images/prune:post"],
    "ImageRootFS": ["ImageInspect.RootFS"],
    "ImageSearchResponseItem": ["response:/images/search:get"],
    "ImageSummary": ["ImageSummary"],
    "ImagesDiskUsage": ["ImagesDiskUsage"],
    "IndexInfo": ["IndexInfo"],
    "JoinTokens": ["JoinTokens"],
    "LogConfig": ["HostConfig.LogConfig"],
    "ManagerStatus": ["ManagerStatus"],
    "Mount": ["Mount"],
    "MountPoint": ["MountPoint"],
    "NRIInfo": ["NRIInfo"],
    "NamedDriver": ["Driver", "TaskSpec.LogDriver", "SwarmSpec.TaskDefaults.LogDriver"],
    "NamedResourceSpec": ["GenericResources.NamedResourceSpec"],
    "Network": ["Network", "NetworkInspect"],
    "NetworkAttachmentConfig": ["NetworkAttachmentConfig"],
    "NetworkConnectRequest": ["NetworkConnectRequest", "body:/networks/{id}/connect:post"],
    "NetworkContainer": ["NetworkContainer", "EndpointResource"],
    "NetworkCreateRequest": ["body:/networks/create:post"],
    "NetworkCreateResponse": ["NetworkCreateResponse", "response:/networks/create:post"],
    "NetworkDisconnectRequest": [
        "NetworkDisconnectRequest",
        "body:/networks/{id}/disconnect:post",
    ],
    "NetworkPruneResponse": ["response:/networks/prune:post"],
    "NetworkSettings": ["NetworkSettings"],
    "NetworkTaskInfo": ["NetworkTaskInfo"],
    "NetworkingConfig": ["NetworkingConfig"],
    "OCIDescriptor": ["OCIDescriptor"],
    "OCIPlatform": ["OCIPlatform"],
    "ObjectIdResponse": ["IDResponse", "IdResponse"],
    "Node": ["Node"],
    "NodeDescription": ["NodeDescription"],
    "NodePlatform": ["Platform"],
    "NodeSpec": ["NodeSpec"],
    "NodeStatus": ["NodeStatus"],
    "ObjectVersion": ["ObjectVersion"],
    "OrchestrationConfig": ["SwarmSpec.Orchestration"],
    "PeerInfo": ["PeerInfo"],
    "PeerNode": ["PeerNode"],
    "PingInfo": ["headers:/_ping:get"],
    "PlacementPlatform": ["Platform"],
    "Platform": ["SystemVersion.Platform"],
    "Plugin": ["Plugin"],
    "PluginArgs": ["Plugin.Config.Args"],
    "PluginConfig": ["Plugin.Config"],
    "PluginDevice": ["PluginDevice"],
    "PluginEnv": ["PluginEnv"],
    "PluginInterface": ["Plugin.Config.Interface"],
    "PluginLinux": ["Plugin.Config.Linux"],
    "PluginMount": ["PluginMount"],
    "PluginNetwork": ["Plugin.Config.Network"],
    "PluginPrivilege": ["PluginPrivilege"],
    "PluginRootFS": ["Plugin.Config.rootfs"],
    "PluginSettings": ["Plugin.Settings"],
    "PluginUser": ["Plugin.Config.User"],
    "PluginsInfo": ["PluginsInfo"],
    "Port": ["Port", "PortSummary"],
    "PortBinding": ["PortBinding"],
    "ProcessConfig": ["ProcessConfig"],
    "ProgressDetail": ["ProgressDetail"],
    "ProgressMessage": ["CreateImageInfo", "PushImageInfo", "BuildInfo"],
    "RaftConfig": ["SwarmSpec.Raft"],
    "RegistryConfig": ["RegistryServiceConfig"],
    "ReplicatedJobMode": ["ServiceSpec.Mode.ReplicatedJob"],
    "ReplicatedMode": ["ServiceSpec.Mode.Replicated"],
    "ResourceLimit": ["Limit"],
    "ResourceObject": ["ResourceObject"],
    "RestartPolicy": ["RestartPolicy"],
    "RootFSSnapshot": ["RootFSStorageSnapshot"],
    "RootFSStorage": ["RootFSStorage"],
    "RuntimeInfo": ["Runtime"],
    "Secret": ["Secret"],
    "SecretSpec": ["SecretSpec"],
    "Service": ["Service"],
    "ServiceCreateResponse": ["ServiceCreateResponse", "response:/services/create:post"],
    "ServiceEndpoint": ["Service.Endpoint"],
    "ServiceEndpointVirtualIP": ["Service.Endpoint.VirtualIPs"],
    "ServiceInfo": ["ServiceInfo"],
    "ServiceJobStatus": ["Service.JobStatus"],
    "ServiceMode": ["ServiceSpec.Mode"],
    "ServiceSpec": ["ServiceSpec"],
    "ServiceStatus": ["Service.ServiceStatus"],
    "ServiceUpdateConfig": ["ServiceSpec.UpdateConfig", "ServiceSpec.RollbackConfig"],
    "ServiceUpdateResponse": ["ServiceUpdateResponse"],
    "ServiceUpdateStatus": ["Service.UpdateStatus"],
    "SwarmInfo": ["SwarmInfo"],
    "SwarmInitRequest": ["body:/swarm/init:post"],
    "SwarmInspect": ["Swarm"],
    "SwarmJoinRequest": ["body:/swarm/join:post"],
    "SwarmSpec": ["SwarmSpec"],
    "SwarmUnlockRequest": ["body:/swarm/unlock:post"],
    "SystemDataUsage": ["response:/system/df:get"],
    "SystemInfo": ["SystemInfo"],
    "SystemVersion": ["SystemVersion"],
    "TLSInfo": ["TLSInfo"],
    "Task": ["Task"],
    "TaskConfig": ["TaskSpec.ContainerSpec.Configs"],
    "TaskContainerStatus": ["ContainerStatus"],
    "TaskDNSConfig": ["TaskSpec.ContainerSpec.DNSConfig"],
    "TaskFileTarget": [
        "TaskSpec.ContainerSpec.Secrets.File",
        "TaskSpec.ContainerSpec.Configs.File",
    ],
    "TaskNetworkAttachment": ["NetworkAttachment"],
    "TaskPlacement": ["TaskSpec.Placement"],
    "TaskPortStatus": ["PortStatus"],
    "TaskResources": ["TaskSpec.Resources"],
    "TaskRestartPolicy": ["TaskSpec.RestartPolicy"],
    "TaskSecret": ["TaskSpec.ContainerSpec.Secrets"],
    "TaskSpec": ["TaskSpec"],
    "TaskStatus": ["TaskStatus"],
    "TaskDefaults": ["SwarmSpec.TaskDefaults"],
    "ThrottleDevice": ["ThrottleDevice"],
    "TmpfsOptions": ["Mount.TmpfsOptions"],
    "Topology": ["Topology"],
    "Ulimit": ["Resources.Ulimits"],
    "UnlockKeyResponse": ["response:/swarm/unlockkey:get"],
    "Volume": ["Volume"],
    "VolumeCreateOptions": ["VolumeCreateOptions", "VolumeCreateRequest"],
    "VolumeListResponse": ["VolumeListResponse"],
    "VolumeOptions": ["Mount.VolumeOptions"],
    "VolumePruneResponse": ["response:/volumes/prune:post"],
    "VolumeUsageData": ["Volume.UsageData"],
    "VolumesDiskUsage": ["VolumesDiskUsage"],
    "WeightDevice": ["Resources.BlkioWeightDevice"],
}

# Spec properties deliberately not modelled: (class name, wire name) -> why.
NOT_MODELLED: dict[tuple[str, str], str] = {
    ("ContainerInspect", "ImageManifestDescriptor"): "OCI descriptor, API 1.48+; skipped",
    ("ContainerSummary", "ImageManifestDescriptor"): "OCI descriptor, API 1.48+; skipped",
    ("ImageInspect", "Descriptor"): "OCI descriptor, not in 1.41; skipped",
    ("ImageInspect", "Identity"): "signature and origin data, API 1.50+; skipped",
    ("ImageInspect", "Manifests"): "multi-platform manifest list, not in 1.41; skipped",
    ("ImageSummary", "Manifests"): "multi-platform manifest list, not in 1.41; skipped",
    ("ImageSummary", "Descriptor"): "OCI descriptor, not in 1.41; skipped",
    ("Network", "Status"): "IPAM subnet usage, API 1.52+ (newer than the library); skipped",
    ("Volume", "ClusterVolume"): "Swarm cluster volumes; skipped",
    ("VolumeCreateOptions", "ClusterVolumeSpec"): "Swarm cluster volumes; skipped",
    **{("ClusterVolumeAccessMode", prop): "the spec nests it in AccessMode by an indentation "
       "slip; dockerd's type has it in ClusterVolumeSpec, modelled there"
       for prop in ("Secrets", "AccessibilityRequirements", "CapacityRange", "Availability")},
    ("ServiceCreateResponse", "Warning"): "API 1.41's spec says Warning; dockerd sends Warnings",
}

# Wire names that are real but not properties of the located definition: (class, name) -> why.
NOT_IN_DEFINITION: dict[tuple[str, str], str] = {
    ("PingInfo", "OSType"): "every Engine response carries an OSType header; the spec omits it",
    ("PingInfo", "Libpod-Api-Version"): "Podman's service names itself in this header",
    ("ContainerStats", "Id"): "Podman's service sends the id as Id (the spec says id)",
    ("ClusterVolumeAccessMode", "BlockVolume"): "swallowed by the spec's indentation slip into "
    "MountVolume's description; dockerd's AccessMode has it",
    **{("ClusterVolumeSpec", prop): "the spec nests it in AccessMode by an indentation slip; "
       "dockerd's ClusterVolumeSpec has it at this level"
       for prop in ("Secrets", "AccessibilityRequirements", "CapacityRange", "Availability")},
    ("Service", "PreviousSpec"): "dockerd sends the spec before the last update; the spec omits it",
}


def _spec(version: str) -> dict[str, Any]:
    import yaml  # the test extra installs PyYAML

    spec_text()  # skips when the specs are absent
    return _load_spec(version, yaml)


@functools.cache
def _load_spec(version: str, yaml: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / f"v{version}.yaml").read_text())
    return loaded


def _properties(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The properties of an object schema, through $ref, allOf, arrays and maps."""
    while True:
        if "$ref" in schema:
            schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[1]]
        elif schema.get("type") == "array":
            schema = schema["items"]
        elif "additionalProperties" in schema and "properties" not in schema:
            schema = schema["additionalProperties"]
        else:
            break
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        props.update(_properties(spec, part))
    props.update(schema.get("properties", {}))
    return props


def _locate(spec: dict[str, Any], locator: str) -> set[str] | None:
    kind, _, rest = locator.partition(":")
    if rest:
        path, _, method = rest.rpartition(":")
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            return None
        if kind == "headers":
            return set(operation["responses"][200]["headers"])
        if kind == "body":
            (param,) = [p for p in operation["parameters"] if p["in"] == "body"]
            return set(_properties(spec, param["schema"]))
        responses = operation["responses"]
        code = 201 if 201 in responses else 200
        return set(_properties(spec, responses[code]["schema"]))
    first, *props = locator.split(".")
    if first not in spec["definitions"]:
        return None
    schema: dict[str, Any] = {"$ref": f"#/definitions/{first}"}
    for prop in props:
        found = _properties(spec, schema).get(prop)
        if found is None:
            return None
        schema = found
    return set(_properties(spec, schema))


def test_wire_names_match_their_spec_definitions() -> None:
    """Each struct's wire names against the definition it models, in both specs (needs PyYAML).

    Stricter than the text search: ``CPUShares`` is right in SystemInfo and wrong in HostConfig.
    Also checks the other way: every property of the definition is modelled or listed above.
    """
    specs = [_spec("1.41"), _spec("1.56")]
    classes = {cls.__name__: cls for cls in all_struct_classes()}
    assert sorted(SPEC_LOCATIONS) == sorted(classes)
    problems = []
    for name, cls in classes.items():
        spec_names: set[str] = set()
        resolved = False
        for locator in SPEC_LOCATIONS[name]:
            for spec in specs:
                found = _locate(spec, locator)
                if found is not None:
                    resolved = True
                    spec_names |= found
        assert resolved, (name, SPEC_LOCATIONS[name])
        wire_names = {f.encode_name for f in msgspec.structs.fields(cls)}
        for wire in sorted(wire_names - spec_names):
            if (name, wire) not in NOT_IN_DEFINITION:
                problems.append(f"{name}: {wire!r} is not in the spec definition")
        for prop in sorted(spec_names - wire_names):
            if (name, prop) not in NOT_MODELLED and not (
                name == "PingInfo" and prop in {"Cache-Control", "Pragma"}
            ):
                problems.append(f"{name}: spec property {prop!r} is not modelled")
    assert problems == [], problems


# ---------------------------------------------------------------------------------------------
# GET /_ping, /version, /info
# ---------------------------------------------------------------------------------------------


def test_ping_info_from_headers() -> None:
    # Go canonicalises header names ("OSType" goes out as "Ostype"); match them case-blind.
    headers = {
        "Api-Version": "1.41",
        "Builder-Version": "2",
        "Docker-Experimental": "false",
        "Ostype": "linux",
        "Server": "Docker/20.10.24+dfsg1 (linux)",
        "Swarm": "active/manager",
    }
    info = PingInfo.from_headers(headers)
    assert info == PingInfo(
        api_version="1.41",
        os_type="linux",
        experimental=False,
        builder_version="2",
        swarm="active/manager",
    )
    assert PingInfo.from_headers({"docker-experimental": "True"}).experimental is True
    assert PingInfo.from_headers({}) == PingInfo()


VERSION_20_10 = b"""{
  "Platform": {"Name": ""},
  "Components": [
    {"Name": "Engine", "Version": "20.10.24+dfsg1",
     "Details": {"ApiVersion": "1.41", "Arch": "amd64",
                 "BuildTime": "2023-05-18T08:38:34.000000000+00:00", "Experimental": "false",
                 "GitCommit": "5d6db84", "GoVersion": "go1.19.8",
                 "KernelVersion": "6.1.0-26-amd64", "MinAPIVersion": "1.12", "Os": "linux"}},
    {"Name": "containerd", "Version": "1.6.20~ds1",
     "Details": {"GitCommit": "1.6.20~ds1-1+b1"}},
    {"Name": "runc", "Version": "1.1.5+ds1", "Details": {"GitCommit": "1.1.5+ds1-1+deb12u1"}},
    {"Name": "docker-init", "Version": "0.19.0", "Details": {"GitCommit": ""}}
  ],
  "Version": "20.10.24+dfsg1",
  "ApiVersion": "1.41",
  "MinAPIVersion": "1.12",
  "GitCommit": "5d6db84",
  "GoVersion": "go1.19.8",
  "Os": "linux",
  "Arch": "amd64",
  "KernelVersion": "6.1.0-26-amd64",
  "BuildTime": "2023-05-18T08:38:34.000000000+00:00"
}"""


def test_system_version_20_10() -> None:
    v = decode(VERSION_20_10, SystemVersion)
    assert v.version == "20.10.24+dfsg1"
    assert v.api_version == "1.41"
    assert v.min_api_version == "1.12"
    assert v.git_commit == "5d6db84"
    assert v.go_version == "go1.19.8"
    assert (v.os, v.arch, v.kernel_version) == ("linux", "amd64", "6.1.0-26-amd64")
    assert v.build_time == "2023-05-18T08:38:34.000000000+00:00"
    assert v.experimental is None  # 20.10 omits it when false
    assert v.platform is not None and v.platform.name == ""
    assert v.components is not None
    assert [c.name for c in v.components] == ["Engine", "containerd", "runc", "docker-init"]
    engine = v.components[0]
    assert engine.version == "20.10.24+dfsg1"
    assert engine.details is not None and engine.details["MinAPIVersion"] == "1.12"


def test_system_version_28() -> None:
    doc = b"""{"Platform": {"Name": "Docker Engine - Community"},
      "Components": [{"Name": "Engine", "Version": "28.5.1",
                      "Details": {"ApiVersion": "1.51", "MinAPIVersion": "1.24"}}],
      "Version": "28.5.1", "ApiVersion": "1.51", "MinAPIVersion": "1.24",
      "GitCommit": "f8215cc", "GoVersion": "go1.24.8", "Os": "linux", "Arch": "arm64",
      "KernelVersion": "6.12.48", "Experimental": true,
      "BuildTime": "2025-10-08T12:17:14.000000000+00:00"}"""
    v = decode(doc, SystemVersion)
    assert v.platform is not None and v.platform.name == "Docker Engine - Community"
    assert v.experimental is True
    assert v.min_api_version == "1.24"
    assert v.arch == "arm64"


INFO_20_10 = b"""{
  "ID": "QJ2M:4BNK:3W6Q:Z4NY:ZNXS:6F3C:G6LG:LJ3P:5JVZ:QZCT:6RAX:GTXK",
  "Containers": 3, "ContainersRunning": 1, "ContainersPaused": 0, "ContainersStopped": 2,
  "Images": 7,
  "Driver": "overlay2",
  "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"],
                   ["Native Overlay Diff", "true"], ["userxattr", "false"]],
  "Plugins": {"Volume": ["local"],
              "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
              "Authorization": null,
              "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local",
                      "logentries", "splunk", "syslog"]},
  "MemoryLimit": true, "SwapLimit": false, "KernelMemory": false, "KernelMemoryTCP": false,
  "CpuCfsPeriod": true, "CpuCfsQuota": true, "CPUShares": true, "CPUSet": true,
  "PidsLimit": true, "IPv4Forwarding": true, "BridgeNfIptables": false,
  "BridgeNfIp6tables": false, "Debug": false, "NFd": 33, "OomKillDisable": false,
  "NGoroutines": 42, "SystemTime": "2024-11-02T10:20:30.123456789Z",
  "LoggingDriver": "json-file", "CgroupDriver": "systemd", "CgroupVersion": "2",
  "NEventsListener": 1, "KernelVersion": "6.1.0-26-amd64",
  "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "OSVersion": "12", "OSType": "linux",
  "Architecture": "x86_64", "IndexServerAddress": "https://index.docker.io/v1/",
  "RegistryConfig": {"AllowNondistributableArtifactsCIDRs": [],
                     "AllowNondistributableArtifactsHostnames": [],
                     "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                     "IndexConfigs": {"docker.io": {"Name": "docker.io", "Mirrors": [],
                                                    "Secure": true, "Official": true}},
                     "Mirrors": []},
  "NCPU": 8, "MemTotal": 16624054272, "GenericResources": null,
  "DockerRootDir": "/var/lib/docker", "HttpProxy": "http://proxy.example:3128",
  "HttpsProxy": "", "NoProxy": "localhost,127.0.0.1", "Name": "buildhost",
  "Labels": ["env=ci"], "ExperimentalBuild": false, "ServerVersion": "20.10.24+dfsg1",
  "ClusterStore": "", "ClusterAdvertise": "",
  "Runtimes": {"io.containerd.runc.v2": {"path": "runc"},
               "io.containerd.runtime.v1.linux": {"path": "runc"},
               "runc": {"path": "runc"},
               "crun": {"path": "/usr/bin/crun", "runtimeArgs": ["--debug"]}},
  "DefaultRuntime": "runc",
  "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
            "ControlAvailable": false, "Error": "", "RemoteManagers": null},
  "LiveRestoreEnabled": false, "Isolation": "", "InitBinary": "docker-init",
  "ContainerdCommit": {"ID": "1.6.20~ds1-1+b1", "Expected": "1.6.20~ds1-1+b1"},
  "RuncCommit": {"ID": "1.1.5+ds1-1+deb12u1", "Expected": "1.1.5+ds1-1+deb12u1"},
  "InitCommit": {"ID": "", "Expected": ""},
  "SecurityOptions": ["name=apparmor", "name=seccomp,profile=default", "name=cgroupns"],
  "DefaultAddressPools": [{"Base": "10.10.0.0/16", "Size": 24}],
  "Warnings": ["WARNING: No swap limit support"]
}"""


def test_system_info_20_10() -> None:
    info = decode(INFO_20_10, SystemInfo)
    assert info.id == "QJ2M:4BNK:3W6Q:Z4NY:ZNXS:6F3C:G6LG:LJ3P:5JVZ:QZCT:6RAX:GTXK"
    assert (info.containers, info.containers_running, info.containers_paused) == (3, 1, 0)
    assert (info.containers_stopped, info.images) == (2, 7)
    assert info.driver_status is not None and info.driver_status[0] == [
        "Backing Filesystem",
        "extfs",
    ]
    assert info.plugins is not None
    assert info.plugins.volume == ["local"]
    assert info.plugins.authorization is None
    assert info.plugins.log is not None and "json-file" in info.plugins.log
    assert info.memory_limit is True and info.swap_limit is False
    assert info.kernel_memory is False and info.kernel_memory_tcp is False
    assert info.cpu_cfs_period is True and info.cpu_cfs_quota is True
    assert info.cpu_shares is True and info.cpu_set is True
    assert info.pids_limit is True and info.oom_kill_disable is False
    assert info.ipv4_forwarding is True
    assert info.bridge_nf_iptables is False and info.bridge_nf_ip6tables is False
    assert (info.n_fd, info.n_goroutines, info.n_events_listener) == (33, 42, 1)
    assert info.system_time == "2024-11-02T10:20:30.123456789Z"
    assert (info.logging_driver, info.cgroup_driver, info.cgroup_version) == (
        "json-file",
        "systemd",
        "2",
    )
    assert info.os_version == "12" and info.os_type == "linux"
    assert info.operating_system == "Debian GNU/Linux 12 (bookworm)"
    assert info.architecture == "x86_64"
    assert info.ncpu == 8 and info.mem_total == 16624054272
    assert info.index_server_address == "https://index.docker.io/v1/"
    assert info.docker_root_dir == "/var/lib/docker"
    assert info.http_proxy == "http://proxy.example:3128"
    assert info.https_proxy == "" and info.no_proxy == "localhost,127.0.0.1"
    assert info.name == "buildhost" and info.labels == ["env=ci"]
    assert info.experimental_build is False and info.server_version == "20.10.24+dfsg1"
    assert info.cluster_store == "" and info.cluster_advertise == ""
    assert info.generic_resources is None
    reg = info.registry_config
    assert reg is not None
    assert reg.insecure_registry_cidrs == ["127.0.0.0/8"]
    assert reg.allow_nondistributable_artifacts_cidrs == []
    assert reg.allow_nondistributable_artifacts_hostnames == []
    assert reg.index_configs is not None
    docker_io = reg.index_configs["docker.io"]
    assert (docker_io.name, docker_io.secure, docker_io.official) == ("docker.io", True, True)
    assert info.runtimes is not None
    assert info.runtimes["runc"].path == "runc"
    assert info.runtimes["runc"].runtime_args is None
    assert info.runtimes["crun"].runtime_args == ["--debug"]
    assert info.default_runtime == "runc"
    assert info.swarm is not None
    assert info.swarm.local_node_state == "inactive"
    assert info.swarm.node_id == "" and info.swarm.control_available is False
    assert info.swarm.remote_managers is None and info.swarm.cluster is None
    assert info.live_restore_enabled is False and info.init_binary == "docker-init"
    assert info.containerd_commit is not None
    assert info.containerd_commit.id == "1.6.20~ds1-1+b1"
    assert info.containerd_commit.expected == "1.6.20~ds1-1+b1"
    assert info.runc_commit is not None and info.runc_commit.id == "1.1.5+ds1-1+deb12u1"
    assert info.init_commit is not None and info.init_commit.id == ""
    assert info.security_options is not None and "name=cgroupns" in info.security_options
    assert info.default_address_pools is not None
    assert info.default_address_pools[0].base == "10.10.0.0/16"
    assert info.default_address_pools[0].size == 24
    assert info.warnings == ["WARNING: No swap limit support"]
    assert info.containerd is None and info.firewall_backend is None


INFO_28 = b"""{
  "ID": "0f4d6b6c-3c0e-4e0f-9b7a-5d0c1a2b3c4d",
  "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0,
  "Images": 1, "Driver": "overlayfs",
  "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
  "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
              "Authorization": null, "Log": ["json-file", "local"]},
  "MemoryLimit": true, "SwapLimit": true, "CpuCfsPeriod": true, "CpuCfsQuota": true,
  "CPUShares": true, "CPUSet": true, "PidsLimit": true, "IPv4Forwarding": true, "Debug": false,
  "NFd": 25, "OomKillDisable": false, "NGoroutines": 50,
  "SystemTime": "2025-11-02T10:20:30.1Z", "LoggingDriver": "json-file",
  "CgroupDriver": "systemd", "CgroupVersion": "2", "NEventsListener": 0,
  "KernelVersion": "6.12.48", "OperatingSystem": "Debian GNU/Linux forky/sid",
  "OSVersion": "", "OSType": "linux", "Architecture": "x86_64",
  "IndexServerAddress": "https://index.docker.io/v1/",
  "RegistryConfig": {"InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8"],
                     "IndexConfigs": {}, "Mirrors": null},
  "NCPU": 4, "MemTotal": 8217849856,
  "GenericResources": [{"DiscreteResourceSpec": {"Kind": "SSD", "Value": 3}},
                       {"NamedResourceSpec": {"Kind": "GPU", "Value": "UUID1"}}],
  "DockerRootDir": "/var/lib/docker", "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
  "Name": "node1", "Labels": [], "ExperimentalBuild": false, "ServerVersion": "28.5.1",
  "Runtimes": {"runc": {"path": "runc",
                        "status": {"org.opencontainers.runtime-spec.features": "{}"}}},
  "DefaultRuntime": "runc",
  "Swarm": {"NodeID": "qgsr9h7s6mvpq2b3q0hd9n3zf", "NodeAddr": "127.0.0.1",
            "LocalNodeState": "active", "ControlAvailable": true, "Error": "",
            "RemoteManagers": [{"NodeID": "qgsr9h7s6mvpq2b3q0hd9n3zf",
                                "Addr": "127.0.0.1:2377"}],
            "Nodes": 1, "Managers": 1,
            "Cluster": {"ID": "abajmipo7b4xz5ip2nrla6b11", "Version": {"Index": 10},
                        "CreatedAt": "2025-11-02T10:00:00.1Z",
                        "UpdatedAt": "2025-11-02T10:00:01.1Z",
                        "Spec": {"Name": "default", "Labels": {}},
                        "TLSInfo": {"TrustRoot": "-----BEGIN CERTIFICATE-----",
                                    "CertIssuerSubject": "MBMxETAPBgNV",
                                    "CertIssuerPublicKey": "MFkwEwYH"},
                        "RootRotationInProgress": false, "DefaultAddrPool": ["10.0.0.0/8"],
                        "SubnetSize": 24, "DataPathPort": 4789}},
  "LiveRestoreEnabled": false, "Isolation": "", "InitBinary": "docker-init",
  "ContainerdCommit": {"ID": "v1.7.28"}, "RuncCommit": {"ID": "v1.3.0"},
  "InitCommit": {"ID": "de40ad0"},
  "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
  "CDISpecDirs": ["/etc/cdi", "/var/run/cdi"],
  "DiscoveredDevices": [{"Source": "cdi", "ID": "vendor.com/gpu=0"}],
  "NRI": {"Info": [["plugin-path", "/opt/docker/nri/plugins"]]},
  "FirewallBackend": {"Driver": "iptables", "Info": [["ReloadedAt", "2025-11-02T10:00:00Z"]]},
  "Containerd": {"Address": "/run/containerd/containerd.sock",
                 "Namespaces": {"Containers": "moby", "Plugins": "plugins.moby"}},
  "Warnings": null,
  "SomethingNew": {"Shape": "unknown"}
}"""


def test_system_info_28() -> None:
    info = decode(
        INFO_28,
        SystemInfo,
        unknown=("$.SomethingNew",),
    )
    assert info.driver == "overlayfs" and info.server_version == "28.5.1"
    assert info.kernel_memory is None and info.bridge_nf_iptables is None
    assert info.cdi_spec_dirs == ["/etc/cdi", "/var/run/cdi"]
    assert info.discovered_devices is not None
    assert info.discovered_devices[0].source == "cdi"
    assert info.discovered_devices[0].id == "vendor.com/gpu=0"
    assert info.nri is not None and info.nri.info == [["plugin-path", "/opt/docker/nri/plugins"]]
    assert info.firewall_backend is not None and info.firewall_backend.driver == "iptables"
    assert info.containerd is not None
    assert info.containerd.address == "/run/containerd/containerd.sock"
    assert info.containerd.namespaces is not None
    assert info.containerd.namespaces.containers == "moby"
    assert info.containerd.namespaces.plugins == "plugins.moby"
    assert info.containerd_commit is not None and info.containerd_commit.expected is None
    assert info.warnings is None
    assert info.registry_config is not None and info.registry_config.index_configs == {}
    assert info.runtimes is not None and info.runtimes["runc"].status == {
        "org.opencontainers.runtime-spec.features": "{}"
    }
    resources = info.generic_resources
    assert resources is not None
    assert resources[0].discrete_resource_spec is not None
    assert resources[0].discrete_resource_spec.value == 3
    assert resources[0].named_resource_spec is None
    assert resources[1].named_resource_spec is not None
    assert resources[1].named_resource_spec.kind == "GPU"
    swarm = info.swarm
    assert swarm is not None
    assert swarm.node_id == "qgsr9h7s6mvpq2b3q0hd9n3zf" and swarm.node_addr == "127.0.0.1"
    assert swarm.control_available is True and (swarm.nodes, swarm.managers) == (1, 1)
    assert swarm.remote_managers is not None
    assert swarm.remote_managers[0].node_id == "qgsr9h7s6mvpq2b3q0hd9n3zf"
    assert swarm.remote_managers[0].addr == "127.0.0.1:2377"
    cluster = swarm.cluster
    assert cluster is not None
    assert cluster.id == "abajmipo7b4xz5ip2nrla6b11"
    assert cluster.version is not None and cluster.version.index == 10
    assert cluster.created_at == "2025-11-02T10:00:00.1Z"
    assert cluster.tls_info is not None and cluster.tls_info.cert_issuer_subject == "MBMxETAPBgNV"
    assert cluster.default_addr_pool == ["10.0.0.0/8"]
    assert (cluster.subnet_size, cluster.data_path_port) == (24, 4789)
    assert cluster.root_rotation_in_progress is False


# ---------------------------------------------------------------------------------------------
# GET /containers/{id}/json
# ---------------------------------------------------------------------------------------------

INSPECT_20_10 = b"""{
  "Id": "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2",
  "Created": "2024-10-05T09:12:44.123456789Z",
  "Path": "/bin/busybox",
  "Args": ["sleep", "3600"],
  "State": {"Status": "running", "Running": true, "Paused": false, "Restarting": false,
            "OOMKilled": false, "Dead": false, "Pid": 4242, "ExitCode": 0, "Error": "",
            "StartedAt": "2024-10-05T09:12:45.000000001Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {"Status": "healthy", "FailingStreak": 0,
                       "Log": [{"Start": "2024-10-05T09:13:15.1+00:00",
                                "End": "2024-10-05T09:13:15.2+00:00",
                                "ExitCode": 0, "Output": "ok\\n"}]}},
  "Image": "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824",
  "ResolvConfPath": "/var/lib/docker/containers/4fa6e0f0c678/resolv.conf",
  "HostnamePath": "/var/lib/docker/containers/4fa6e0f0c678/hostname",
  "HostsPath": "/var/lib/docker/containers/4fa6e0f0c678/hosts",
  "LogPath": "/var/lib/docker/containers/4fa6e0f0c678/4fa6e0f0c678-json.log",
  "Name": "/web",
  "RestartCount": 0,
  "Driver": "overlay2",
  "Platform": "linux",
  "MountLabel": "",
  "ProcessLabel": "",
  "AppArmorProfile": "docker-default",
  "ExecIDs": null,
  "HostConfig": {
    "Binds": ["/srv/data:/data:ro"],
    "ContainerIDFile": "",
    "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
    "NetworkMode": "bridge",
    "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
    "AutoRemove": false,
    "VolumeDriver": "",
    "VolumesFrom": null,
    "CapAdd": ["NET_ADMIN"],
    "CapDrop": null,
    "CgroupnsMode": "private",
    "Dns": [], "DnsOptions": [], "DnsSearch": [],
    "ExtraHosts": ["host.docker.internal:host-gateway"],
    "GroupAdd": null,
    "IpcMode": "private",
    "Cgroup": "",
    "Links": null,
    "OomScoreAdj": 0,
    "PidMode": "",
    "Privileged": false,
    "PublishAllPorts": false,
    "ReadonlyRootfs": true,
    "SecurityOpt": null,
    "StorageOpt": {"size": "10G"},
    "Tmpfs": {"/tmp": "rw,size=64m"},
    "UTSMode": "host",
    "UsernsMode": "",
    "ShmSize": 67108864,
    "Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"},
    "Runtime": "runc",
    "ConsoleSize": [0, 0],
    "Isolation": "",
    "CpuShares": 512,
    "Memory": 268435456,
    "NanoCpus": 1500000000,
    "CgroupParent": "",
    "BlkioWeight": 300,
    "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 200}],
    "BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1048576}],
    "BlkioDeviceWriteBps": null,
    "BlkioDeviceReadIOps": [{"Path": "/dev/sda", "Rate": 100}],
    "BlkioDeviceWriteIOps": [{"Path": "/dev/sdb", "Rate": 50}],
    "CpuPeriod": 100000,
    "CpuQuota": 50000,
    "CpuRealtimePeriod": 0,
    "CpuRealtimeRuntime": 0,
    "CpusetCpus": "0-1",
    "CpusetMems": "",
    "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse",
                 "CgroupPermissions": "rwm"}],
    "DeviceCgroupRules": ["c 10:200 rwm"],
    "DeviceRequests": null,
    "KernelMemory": 0,
    "KernelMemoryTCP": 0,
    "MemoryReservation": 134217728,
    "MemorySwap": 536870912,
    "MemorySwappiness": null,
    "OomKillDisable": false,
    "PidsLimit": null,
    "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 4096}],
    "CpuCount": 0,
    "CpuPercent": 0,
    "IOMaximumIOps": 0,
    "IOMaximumBandwidth": 0,
    "Mounts": [{"Type": "tmpfs", "Target": "/run",
                "TmpfsOptions": {"SizeBytes": 65536, "Mode": 1023}},
               {"Type": "volume", "Source": "cache", "Target": "/cache", "ReadOnly": false,
                "VolumeOptions": {"NoCopy": true, "Labels": {"a": "b"},
                                  "DriverConfig": {"Name": "local", "Options": {"o": "bind"}}}}],
    "MaskedPaths": ["/proc/asound", "/proc/acpi"],
    "ReadonlyPaths": ["/proc/bus", "/proc/fs"],
    "Init": true
  },
  "GraphDriver": {"Data": {"LowerDir": "/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B",
                           "MergedDir": "/var/lib/docker/overlay2/x/merged",
                           "UpperDir": "/var/lib/docker/overlay2/x/diff",
                           "WorkDir": "/var/lib/docker/overlay2/x/work"},
                  "Name": "overlay2"},
  "SizeRw": 12288,
  "SizeRootFs": 1245184,
  "Mounts": [{"Type": "bind", "Source": "/srv/data", "Destination": "/data", "Mode": "ro",
              "RW": false, "Propagation": "rprivate"},
             {"Type": "volume", "Name": "cache",
              "Source": "/var/lib/docker/volumes/cache/_data", "Destination": "/cache",
              "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""}],
  "Config": {
    "Hostname": "4fa6e0f0c678", "Domainname": "example.org", "User": "1000:1000",
    "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
    "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
    "Tty": false, "OpenStdin": false, "StdinOnce": false,
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Cmd": ["sleep", "3600"],
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000,
                    "Timeout": 5000000000, "Retries": 3, "StartPeriod": 1000000000},
    "ArgsEscaped": true,
    "Image": "aiodockersock-test/busybox:latest",
    "Volumes": {"/cache": {}},
    "WorkingDir": "/srv",
    "Entrypoint": ["/bin/busybox"],
    "NetworkDisabled": false,
    "MacAddress": "02:42:ac:11:00:09",
    "OnBuild": null,
    "Labels": {"com.example.role": "web"},
    "StopSignal": "SIGTERM",
    "StopTimeout": 10,
    "Shell": ["/bin/sh", "-c"]
  },
  "NetworkSettings": {
    "Bridge": "",
    "SandboxID": "9d12daf2c33f5959c8bf90aa513e4f65b561738661003029ec84830cd503a0c3",
    "HairpinMode": false,
    "LinkLocalIPv6Address": "fe80::42:acff:fe11:2",
    "LinkLocalIPv6PrefixLen": 64,
    "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "443/tcp": null},
    "SandboxKey": "/var/run/docker/netns/9d12daf2c33f",
    "SecondaryIPAddresses": [{"Addr": "172.17.0.9", "PrefixLen": 16}],
    "SecondaryIPv6Addresses": null,
    "EndpointID": "8ed5115aeaad9abb174f68dcf135b49f11daf597678315231a32ca28441dec6a",
    "Gateway": "172.17.0.1",
    "GlobalIPv6Address": "2001:db8::2",
    "GlobalIPv6PrefixLen": 64,
    "IPAddress": "172.17.0.2",
    "IPPrefixLen": 16,
    "IPv6Gateway": "2001:db8::1",
    "MacAddress": "02:42:ac:11:00:02",
    "Networks": {
      "bridge": {"IPAMConfig": null, "Links": null, "Aliases": null,
                 "NetworkID": "d687bc59335f0e5c9ee8193e5612e8aee000c8c62ea170cfb99c098f95899d92",
                 "EndpointID": "8ed5115aeaad9abb174f68dcf135b49f11daf597678315231a32ca28441dec6a",
                 "Gateway": "172.17.0.1", "IPAddress": "172.17.0.2", "IPPrefixLen": 16,
                 "IPv6Gateway": "2001:db8::1", "GlobalIPv6Address": "2001:db8::2",
                 "GlobalIPv6PrefixLen": 64, "MacAddress": "02:42:ac:11:00:02",
                 "DriverOpts": null}
    }
  },
  "SomeFutureField": {"x": 1}
}"""


def test_container_inspect_20_10() -> None:
    c = decode(INSPECT_20_10, ContainerInspect, unknown=("$.SomeFutureField",))
    assert c.id == "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2"
    assert c.created == "2024-10-05T09:12:44.123456789Z"
    assert c.path == "/bin/busybox" and c.args == ["sleep", "3600"]
    assert c.image is not None and c.image.startswith("sha256:")
    assert c.resolv_conf_path is not None and c.resolv_conf_path.endswith("resolv.conf")
    assert c.hostname_path is not None and c.hostname_path.endswith("hostname")
    assert c.hosts_path is not None and c.hosts_path.endswith("hosts")
    assert c.log_path is not None and c.log_path.endswith("-json.log")
    assert c.name == "/web" and c.restart_count == 0
    assert (c.driver, c.platform) == ("overlay2", "linux")
    assert (c.mount_label, c.process_label, c.app_armor_profile) == ("", "", "docker-default")
    assert c.exec_ids is None
    assert (c.size_rw, c.size_root_fs) == (12288, 1245184)
    assert c.storage is None

    s = c.state
    assert s is not None
    assert s.status == "running" and s.running is True and s.paused is False
    assert s.restarting is False and s.oom_killed is False and s.dead is False
    assert (s.pid, s.exit_code, s.error) == (4242, 0, "")
    assert s.started_at == "2024-10-05T09:12:45.000000001Z"
    assert s.finished_at == "0001-01-01T00:00:00Z"
    assert s.health is not None
    assert s.health.status == "healthy" and s.health.failing_streak == 0
    assert s.health.log is not None
    run = s.health.log[0]
    assert run.start == "2024-10-05T09:13:15.1+00:00" and run.end == "2024-10-05T09:13:15.2+00:00"
    assert (run.exit_code, run.output) == (0, "ok\n")

    h = c.host_config
    assert h is not None
    assert h.binds == ["/srv/data:/data:ro"]
    assert h.container_id_file == ""
    assert h.log_config == LogConfig(type="json-file", config={"max-size": "10m"})
    assert h.network_mode == "bridge"
    assert h.port_bindings == {"80/tcp": [PortBinding(host_ip="127.0.0.1", host_port="8080")]}
    assert h.restart_policy == RestartPolicy(name="on-failure", maximum_retry_count=3)
    assert h.auto_remove is False and h.volume_driver == "" and h.volumes_from is None
    assert h.cap_add == ["NET_ADMIN"] and h.cap_drop is None
    assert h.cgroupns_mode == "private"
    assert (h.dns, h.dns_options, h.dns_search) == ([], [], [])
    assert h.extra_hosts == ["host.docker.internal:host-gateway"]
    assert h.ipc_mode == "private" and h.cgroup == "" and h.pid_mode == ""
    assert h.oom_score_adj == 0 and h.privileged is False and h.publish_all_ports is False
    assert h.readonly_rootfs is True and h.security_opt is None
    assert h.storage_opt == {"size": "10G"} and h.tmpfs == {"/tmp": "rw,size=64m"}
    assert h.uts_mode == "host" and h.userns_mode == ""
    assert h.shm_size == 67108864
    assert h.sysctls == {"net.ipv4.ip_unprivileged_port_start": "0"}
    assert h.runtime == "runc" and h.console_size == [0, 0] and h.isolation == ""
    assert h.masked_paths == ["/proc/asound", "/proc/acpi"]
    assert h.readonly_paths == ["/proc/bus", "/proc/fs"]
    assert h.annotations is None
    # The Resources part.
    assert (h.cpu_shares, h.memory, h.nano_cpus) == (512, 268435456, 1500000000)
    assert h.cgroup_parent == "" and h.blkio_weight == 300
    assert h.blkio_weight_device is not None and h.blkio_weight_device[0].weight == 200
    assert h.blkio_device_read_bps == [ThrottleDevice(path="/dev/sda", rate=1048576)]
    assert h.blkio_device_write_bps is None
    assert h.blkio_device_read_iops == [ThrottleDevice(path="/dev/sda", rate=100)]
    assert h.blkio_device_write_iops == [ThrottleDevice(path="/dev/sdb", rate=50)]
    assert (h.cpu_period, h.cpu_quota) == (100000, 50000)
    assert (h.cpu_realtime_period, h.cpu_realtime_runtime) == (0, 0)
    assert (h.cpuset_cpus, h.cpuset_mems) == ("0-1", "")
    assert h.devices is not None
    device = h.devices[0]
    assert (device.path_on_host, device.path_in_container, device.cgroup_permissions) == (
        "/dev/fuse",
        "/dev/fuse",
        "rwm",
    )
    assert h.device_cgroup_rules == ["c 10:200 rwm"] and h.device_requests is None
    assert (h.kernel_memory, h.kernel_memory_tcp) == (0, 0)
    assert (h.memory_reservation, h.memory_swap) == (134217728, 536870912)
    assert h.memory_swappiness is None and h.pids_limit is None
    assert h.oom_kill_disable is False and h.init is True
    assert h.ulimits is not None
    assert (h.ulimits[0].name, h.ulimits[0].soft, h.ulimits[0].hard) == ("nofile", 1024, 4096)
    assert (h.cpu_count, h.cpu_percent) == (0, 0)
    assert (h.io_maximum_iops, h.io_maximum_bandwidth) == (0, 0)
    assert h.mounts is not None
    tmpfs, volume = h.mounts
    assert tmpfs == Mount(
        type="tmpfs", target="/run", tmpfs_options=TmpfsOptions(size_bytes=65536, mode=1023)
    )
    assert volume.read_only is False and volume.source == "cache"
    assert volume.volume_options is not None
    assert volume.volume_options.no_copy is True
    assert volume.volume_options.labels == {"a": "b"}
    assert volume.volume_options.driver_config is not None
    assert volume.volume_options.driver_config.name == "local"
    assert volume.volume_options.driver_config.options == {"o": "bind"}

    assert c.graph_driver is not None and c.graph_driver.name == "overlay2"
    assert c.graph_driver.data is not None
    assert c.graph_driver.data["UpperDir"] == "/var/lib/docker/overlay2/x/diff"

    assert c.mounts is not None
    bind, vol = c.mounts
    assert (bind.type, bind.source, bind.destination) == ("bind", "/srv/data", "/data")
    assert (bind.mode, bind.rw, bind.propagation) == ("ro", False, "rprivate")
    assert bind.name is None and bind.driver is None
    assert (vol.name, vol.driver, vol.rw) == ("cache", "local", True)

    cfg = c.config
    assert cfg is not None
    assert (cfg.hostname, cfg.domainname, cfg.user) == ("4fa6e0f0c678", "example.org", "1000:1000")
    assert (cfg.attach_stdin, cfg.attach_stdout, cfg.attach_stderr) == (False, True, True)
    assert cfg.exposed_ports == {"80/tcp": {}, "443/tcp": {}}
    assert (cfg.tty, cfg.open_stdin, cfg.stdin_once) == (False, False, False)
    assert cfg.env is not None and cfg.env[0].startswith("PATH=")
    assert cfg.cmd == ["sleep", "3600"]
    assert cfg.healthcheck == HealthConfig(
        test=["CMD-SHELL", "true"],
        interval=30000000000,
        timeout=5000000000,
        retries=3,
        start_period=1000000000,
    )
    assert cfg.args_escaped is True
    assert cfg.image == "aiodockersock-test/busybox:latest"
    assert cfg.volumes == {"/cache": {}}
    assert cfg.working_dir == "/srv" and cfg.entrypoint == ["/bin/busybox"]
    assert cfg.network_disabled is False and cfg.mac_address == "02:42:ac:11:00:09"
    assert cfg.on_build is None and cfg.labels == {"com.example.role": "web"}
    assert (cfg.stop_signal, cfg.stop_timeout) == ("SIGTERM", 10)
    assert cfg.shell == ["/bin/sh", "-c"]

    n = c.network_settings
    assert n is not None
    assert n.bridge == "" and n.hairpin_mode is False
    assert n.sandbox_id == "9d12daf2c33f5959c8bf90aa513e4f65b561738661003029ec84830cd503a0c3"
    assert n.sandbox_key == "/var/run/docker/netns/9d12daf2c33f"
    assert n.link_local_ipv6_address == "fe80::42:acff:fe11:2"
    assert n.link_local_ipv6_prefix_len == 64
    assert n.ports == {
        "80/tcp": [PortBinding(host_ip="127.0.0.1", host_port="8080")],
        "443/tcp": None,
    }
    assert n.secondary_ip_addresses is not None
    assert n.secondary_ip_addresses[0].addr == "172.17.0.9"
    assert n.secondary_ip_addresses[0].prefix_len == 16
    assert n.secondary_ipv6_addresses is None
    assert n.endpoint_id == "8ed5115aeaad9abb174f68dcf135b49f11daf597678315231a32ca28441dec6a"
    assert (n.gateway, n.ip_address, n.ip_prefix_len) == ("172.17.0.1", "172.17.0.2", 16)
    assert (n.global_ipv6_address, n.global_ipv6_prefix_len) == ("2001:db8::2", 64)
    assert n.ipv6_gateway == "2001:db8::1" and n.mac_address == "02:42:ac:11:00:02"
    assert n.networks is not None
    bridge = n.networks["bridge"]
    assert bridge.ipam_config is None and bridge.aliases is None
    assert bridge.network_id == "d687bc59335f0e5c9ee8193e5612e8aee000c8c62ea170cfb99c098f95899d92"
    assert bridge.endpoint_id == n.endpoint_id
    assert (bridge.gateway, bridge.ip_address, bridge.ip_prefix_len) == (
        "172.17.0.1",
        "172.17.0.2",
        16,
    )
    assert (bridge.ipv6_gateway, bridge.global_ipv6_address) == ("2001:db8::1", "2001:db8::2")
    assert bridge.global_ipv6_prefix_len == 64
    assert bridge.mac_address == "02:42:ac:11:00:02" and bridge.dns_names is None


INSPECT_28 = b"""{
  "Id": "9e1fd8c3f2b1a7e5c4d3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1",
  "Created": "2025-11-02T10:20:30.5Z",
  "Path": "false", "Args": [],
  "State": {"Status": "exited", "Running": false, "Paused": false, "Restarting": false,
            "OOMKilled": true, "Dead": false, "Pid": 0, "ExitCode": 137, "Error": "",
            "StartedAt": "2025-11-02T10:20:31Z", "FinishedAt": "2025-11-02T10:20:32Z"},
  "Image": "sha256:0123", "Name": "/job", "RestartCount": 2, "Driver": "overlayfs",
  "Platform": "linux", "ExecIDs": ["e1", "e2"],
  "ImageManifestDescriptor": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "digest": "sha256:4567", "size": 1234},
  "HostConfig": {
    "NetworkMode": "none", "PortBindings": {}, "ConsoleSize": [24, 80],
    "Annotations": {"io.kubernetes.cri.container-type": "container"},
    "Runtime": null,
    "Mounts": [
      {"Type": "volume", "Source": "data", "Target": "/data",
       "VolumeOptions": {"NoCopy": true, "Subpath": "sub"}},
      {"Type": "image", "Source": "busybox", "Target": "/img",
       "ImageOptions": {"Subpath": "etc"}},
      {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": true,
       "BindOptions": {"Propagation": "rshared", "NonRecursive": false,
                       "CreateMountpoint": true, "ReadOnlyNonRecursive": false,
                       "ReadOnlyForceRecursive": true}},
      {"Type": "tmpfs", "Target": "/scratch",
       "TmpfsOptions": {"SizeBytes": 1048576, "Options": [["noexec"], ["uid", "1000"]]}}
    ],
    "DeviceRequests": [{"Driver": "nvidia", "Count": -1, "DeviceIDs": ["0", "1"],
                        "Capabilities": [["gpu", "compute"]], "Options": {}}],
    "PidsLimit": 100
  },
  "GraphDriver": null,
  "Storage": {"RootFS": {"Snapshot": {"Name": "overlayfs"}}},
  "Mounts": [],
  "Config": {"Hostname": "9e1fd8c3f2b1", "Image": "busybox", "Cmd": ["false"],
             "Healthcheck": {"Test": ["CMD", "true"], "StartInterval": 1000000000},
             "ExposedPorts": null, "Volumes": null, "Labels": {}},
  "NetworkSettings": {
    "SandboxID": "", "SandboxKey": "", "Ports": {},
    "Networks": {"appnet": {
      "IPAMConfig": {"IPv4Address": "10.1.0.5", "IPv6Address": "",
                     "LinkLocalIPs": ["169.254.1.1"]},
      "Links": null, "Aliases": ["web"], "MacAddress": "5a:1f:00:00:00:05",
      "DriverOpts": null, "GwPriority": 10,
      "NetworkID": "5b0c2e3f", "EndpointID": "", "Gateway": "10.1.0.1",
      "IPAddress": "10.1.0.5", "IPPrefixLen": 24, "IPv6Gateway": "",
      "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
      "DNSNames": ["job", "9e1fd8c3f2b1"]}}
  }
}"""


def test_container_inspect_28() -> None:
    c = decode(INSPECT_28, ContainerInspect, unknown=("$.ImageManifestDescriptor",))
    assert c.state is not None
    assert c.state.oom_killed is True and c.state.exit_code == 137 and c.state.health is None
    assert c.exec_ids == ["e1", "e2"] and c.restart_count == 2
    assert c.graph_driver is None
    assert c.storage is not None and c.storage.root_fs is not None
    assert c.storage.root_fs.snapshot is not None
    assert c.storage.root_fs.snapshot.name == "overlayfs"
    assert c.mounts == []
    h = c.host_config
    assert h is not None
    assert h.annotations == {"io.kubernetes.cri.container-type": "container"}
    assert h.port_bindings == {} and h.console_size == [24, 80] and h.runtime is None
    assert h.pids_limit == 100
    assert h.mounts is not None
    volume, image, bind, tmpfs = h.mounts
    assert volume.volume_options is not None and volume.volume_options.subpath == "sub"
    assert image.type == "image"
    assert image.image_options is not None and image.image_options.subpath == "etc"
    assert bind.read_only is True and bind.bind_options is not None
    assert bind.bind_options.propagation == "rshared"
    assert bind.bind_options.non_recursive is False
    assert bind.bind_options.create_mountpoint is True
    assert bind.bind_options.read_only_non_recursive is False
    assert bind.bind_options.read_only_force_recursive is True
    assert tmpfs.tmpfs_options == TmpfsOptions(
        size_bytes=1048576, options=[["noexec"], ["uid", "1000"]]
    )
    assert h.device_requests is not None
    gpu = h.device_requests[0]
    assert (gpu.driver, gpu.count, gpu.device_ids) == ("nvidia", -1, ["0", "1"])
    assert gpu.capabilities == [["gpu", "compute"]] and gpu.options == {}
    assert c.config is not None
    assert c.config.healthcheck == HealthConfig(test=["CMD", "true"], start_interval=1000000000)
    assert c.config.exposed_ports is None and c.config.mac_address is None
    n = c.network_settings
    assert n is not None and n.ip_address is None and n.bridge is None
    assert n.networks is not None
    appnet = n.networks["appnet"]
    assert appnet.ipam_config is not None
    assert appnet.ipam_config.ipv4_address == "10.1.0.5"
    assert appnet.ipam_config.ipv6_address == ""
    assert appnet.ipam_config.link_local_ips == ["169.254.1.1"]
    assert appnet.gw_priority == 10 and appnet.dns_names == ["job", "9e1fd8c3f2b1"]
    assert appnet.network_id == "5b0c2e3f" and appnet.ip_address == "10.1.0.5"


# ---------------------------------------------------------------------------------------------
# GET /containers/json and GET /images/json
# ---------------------------------------------------------------------------------------------

CONTAINER_LIST_20_10 = b"""[{
  "Id": "8dfafdbc3a40bc9d77f7a5ba8cc07ae31a4ee0cbb1b6b4f4b1e5e2c0d0a0b0c0",
  "Names": ["/web"],
  "Image": "nginx:latest",
  "ImageID": "sha256:2b8fd9751c4c0f5dd266fcae00707e67a2545ef34f9a29354585f93dac906749",
  "Command": "/docker-entrypoint.sh nginx -g 'daemon off;'",
  "Created": 1728119564,
  "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 443, "Type": "tcp"}],
  "SizeRw": 1120,
  "SizeRootFs": 142000000,
  "Labels": {"maintainer": "NGINX Docker Maintainers"},
  "State": "running",
  "Status": "Up 2 hours",
  "HostConfig": {"NetworkMode": "default"},
  "NetworkSettings": {"Networks": {"bridge": {
      "IPAMConfig": null, "Links": null, "Aliases": null,
      "NetworkID": "d687bc59335f", "EndpointID": "8ed5115aeaad", "Gateway": "172.17.0.1",
      "IPAddress": "172.17.0.3", "IPPrefixLen": 16, "IPv6Gateway": "",
      "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
      "MacAddress": "02:42:ac:11:00:03", "DriverOpts": null}}},
  "Mounts": [{"Type": "volume", "Name": "html",
              "Source": "/var/lib/docker/volumes/html/_data",
              "Destination": "/usr/share/nginx/html", "Driver": "local", "Mode": "z",
              "RW": true, "Propagation": ""}]
}]"""


def test_container_summary_20_10() -> None:
    (c,) = decode(CONTAINER_LIST_20_10, list[ContainerSummary])
    assert c.id == "8dfafdbc3a40bc9d77f7a5ba8cc07ae31a4ee0cbb1b6b4f4b1e5e2c0d0a0b0c0"
    assert c.names == ["/web"] and c.image == "nginx:latest"
    assert c.image_id == "sha256:2b8fd9751c4c0f5dd266fcae00707e67a2545ef34f9a29354585f93dac906749"
    assert c.command == "/docker-entrypoint.sh nginx -g 'daemon off;'"
    assert c.created == 1728119564
    assert c.ports is not None
    assert (c.ports[0].ip, c.ports[0].private_port, c.ports[0].public_port) == ("0.0.0.0", 80, 8080)
    assert c.ports[0].type == "tcp"
    assert c.ports[2].ip is None and c.ports[2].public_port is None
    assert (c.size_rw, c.size_root_fs) == (1120, 142000000)
    assert c.labels == {"maintainer": "NGINX Docker Maintainers"}
    assert (c.state, c.status) == ("running", "Up 2 hours")
    assert c.host_config is not None and c.host_config.network_mode == "default"
    assert c.host_config.annotations is None
    assert c.network_settings is not None and c.network_settings.networks is not None
    assert c.network_settings.networks["bridge"].ip_address == "172.17.0.3"
    assert c.mounts is not None
    assert (c.mounts[0].name, c.mounts[0].rw, c.mounts[0].driver) == ("html", True, "local")
    assert c.health is None


def test_container_summary_29() -> None:
    doc = b"""[{"Id": "aa86eacfb3b3", "Names": ["/db"], "Image": "postgres:17",
      "ImageID": "sha256:9f2a", "Command": "postgres", "Created": 1762078830,
      "ImageManifestDescriptor": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                  "digest": "sha256:72297848", "size": 424},
      "Ports": [], "Labels": {}, "State": "running", "Status": "Up 5 minutes (healthy)",
      "HostConfig": {"NetworkMode": "appnet", "Annotations": {"com.example.note": "x"}},
      "NetworkSettings": {"Networks": {}}, "Mounts": [],
      "Health": {"Status": "healthy", "FailingStreak": 0}}]"""
    (c,) = decode(doc, list[ContainerSummary], unknown=("$[0].ImageManifestDescriptor",))
    assert c.ports == [] and c.size_rw is None
    assert c.host_config is not None
    assert c.host_config.annotations == {"com.example.note": "x"}
    assert c.health is not None
    assert (c.health.status, c.health.failing_streak) == ("healthy", 0)


IMAGE_LIST_20_10 = b"""[{
  "Containers": -1,
  "Created": 1727049600,
  "Id": "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824",
  "Labels": null,
  "ParentId": "",
  "RepoDigests": [
    "busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7"
  ],
  "RepoTags": ["busybox:latest", "busybox:1.36"],
  "SharedSize": -1,
  "Size": 4261550,
  "VirtualSize": 4261550
}]"""


def test_image_summary_20_10() -> None:
    (image,) = decode(IMAGE_LIST_20_10, list[ImageSummary])
    assert image.id == "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
    assert image.parent_id == ""
    assert image.repo_tags == ["busybox:latest", "busybox:1.36"]
    assert image.repo_digests is not None and image.repo_digests[0].startswith("busybox@sha256:")
    assert image.created == 1727049600
    assert (image.size, image.shared_size, image.virtual_size) == (4261550, -1, 4261550)
    assert image.labels is None and image.containers == -1


def test_image_summary_29() -> None:
    doc = b"""[{"Containers": 2, "Created": 1762078830, "Id": "sha256:0123",
      "Labels": {"org.opencontainers.image.version": "1.0"}, "ParentId": "",
      "RepoDigests": [], "RepoTags": null, "SharedSize": 0, "Size": 123,
      "Descriptor": {"mediaType": "application/vnd.oci.image.index.v1+json",
                     "digest": "sha256:0123", "size": 856},
      "Manifests": [{"ID": "sha256:4567", "Available": true, "Kind": "image"}]}]"""
    (image,) = decode(doc, list[ImageSummary], unknown=("$[0].Descriptor", "$[0].Manifests"))
    assert image.virtual_size is None and image.repo_tags is None
    assert image.labels == {"org.opencontainers.image.version": "1.0"}
    assert image.containers == 2


# ---------------------------------------------------------------------------------------------
# Volumes, build cache, GET /system/df
# ---------------------------------------------------------------------------------------------

VOLUME = b"""{
  "CreatedAt": "2024-10-05T09:12:44Z",
  "Driver": "local",
  "Labels": {"com.example.some-label": "some-value"},
  "Mountpoint": "/var/lib/docker/volumes/cache/_data",
  "Name": "cache",
  "Options": {"type": "tmpfs", "device": "tmpfs", "o": "size=100m,uid=1000"},
  "Scope": "local",
  "Status": {"hello": "world", "nested": {"n": 1}},
  "UsageData": {"Size": 10920104, "RefCount": 2}
}"""


def test_volume() -> None:
    v = decode(VOLUME, Volume)
    assert (v.name, v.driver, v.scope) == ("cache", "local", "local")
    assert v.mountpoint == "/var/lib/docker/volumes/cache/_data"
    assert v.created_at == "2024-10-05T09:12:44Z"
    assert v.labels == {"com.example.some-label": "some-value"}
    assert v.options == {"type": "tmpfs", "device": "tmpfs", "o": "size=100m,uid=1000"}
    assert v.status == {"hello": "world", "nested": {"n": 1}}
    assert v.usage_data is not None
    assert (v.usage_data.size, v.usage_data.ref_count) == (10920104, 2)


BUILD_CACHE_1_41 = b"""{"ID": "hw53o5aio51xtltp5xjp8v7fx", "Parent": "ndlpt0hhvkqcdfkputsk4cq9c",
  "Type": "regular", "Description": "mount / from exec /bin/sh -c echo 'Binary::apt::APT'",
  "InUse": false, "Shared": true, "Size": 51, "CreatedAt": "2016-08-18T10:44:24.496525531Z",
  "LastUsedAt": "2017-08-09T07:09:37.632105588Z", "UsageCount": 26}"""


def test_build_cache_record() -> None:
    r = decode(BUILD_CACHE_1_41, BuildCacheRecord)
    assert r.id == "hw53o5aio51xtltp5xjp8v7fx"
    assert r.parent == "ndlpt0hhvkqcdfkputsk4cq9c" and r.parents is None
    assert (r.type, r.in_use, r.shared, r.size) == ("regular", False, True, 51)
    assert r.description is not None and r.description.startswith("mount / from exec")
    assert r.created_at == "2016-08-18T10:44:24.496525531Z"
    assert r.last_used_at == "2017-08-09T07:09:37.632105588Z"
    assert r.usage_count == 26
    new = decode(b'{"ID": "x", "Parents": ["a", "b"], "LastUsedAt": null}', BuildCacheRecord)
    assert new.parents == ["a", "b"] and new.parent is None and new.last_used_at is None


def test_system_data_usage_1_41() -> None:
    doc = (
        b'{"LayersSize": 1092588, "Images": '
        + IMAGE_LIST_20_10
        + b', "Containers": '
        + CONTAINER_LIST_20_10
        + b', "Volumes": ['
        + VOLUME
        + b'], "BuildCache": ['
        + BUILD_CACHE_1_41
        + b"]}"
    )
    df = decode(doc, SystemDataUsage)
    assert df.layers_size == 1092588
    assert df.images is not None and df.images[0].virtual_size == 4261550
    assert df.containers is not None and df.containers[0].image_id is not None
    assert df.volumes is not None and df.volumes[0].usage_data is not None
    assert df.build_cache is not None and df.build_cache[0].usage_count == 26
    assert df.image_usage is None and df.build_cache_usage is None


def test_system_data_usage_1_56() -> None:
    doc = (
        b'{"ImageUsage": {"ActiveCount": 1, "TotalCount": 4, "Reclaimable": 12345678,'
        b' "TotalSize": 98765432, "Items": '
        + IMAGE_LIST_20_10
        + b'}, "ContainerUsage": {"ActiveCount": 1, "TotalCount": 1, "Reclaimable": 0,'
        b' "TotalSize": 1120, "Items": '
        + CONTAINER_LIST_20_10
        + b'}, "VolumeUsage": {"ActiveCount": 1, "TotalCount": 1, "Reclaimable": 0,'
        b' "TotalSize": 10920104, "Items": ['
        + VOLUME
        + b']}, "BuildCacheUsage": {"ActiveCount": 0, "TotalCount": 1, "Reclaimable": 51,'
        b' "TotalSize": 51}}'
    )
    df = decode(doc, SystemDataUsage)
    assert df.images is None and df.layers_size is None
    assert df.image_usage is not None
    assert (df.image_usage.active_count, df.image_usage.total_count) == (1, 4)
    assert (df.image_usage.reclaimable, df.image_usage.total_size) == (12345678, 98765432)
    assert df.image_usage.items is not None and df.image_usage.items[0].size == 4261550
    assert df.container_usage is not None and df.container_usage.items is not None
    assert df.container_usage.items[0].names == ["/web"]
    assert df.volume_usage is not None and df.volume_usage.items is not None
    assert df.volume_usage.items[0].name == "cache"
    assert df.build_cache_usage is not None
    assert df.build_cache_usage.total_size == 51 and df.build_cache_usage.items is None


# ---------------------------------------------------------------------------------------------
# Small container responses
# ---------------------------------------------------------------------------------------------


def test_small_container_responses() -> None:
    created = decode(b'{"Id": "e90e34656806", "Warnings": []}', ContainerCreateResponse)
    assert created == ContainerCreateResponse(id="e90e34656806", warnings=[])
    assert (
        decode(b'{"Id": "e90e34656806", "Warnings": null}', ContainerCreateResponse).warnings
        is None
    )

    waited = decode(b'{"StatusCode": 137, "Error": null}', ContainerWaitResponse)
    assert waited.status_code == 137 and waited.error is None
    failed = decode(b'{"StatusCode": -1, "Error": {"Message": "boom"}}', ContainerWaitResponse)
    assert failed.error is not None and failed.error.message == "boom"

    top = decode(
        b'{"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],'
        b' "Processes": [["root", "13642", "882", "0", "17:03", "pts/0", "00:00:00",'
        b' "/bin/bash"]]}',
        ContainerTopResponse,
    )
    assert top.titles is not None and top.titles[1] == "PID"
    assert top.processes is not None and top.processes[0][-1] == "/bin/bash"

    changes = decode(
        b'[{"Path": "/dev", "Kind": 0}, {"Path": "/dev/kmsg", "Kind": 1},'
        b' {"Path": "/test", "Kind": 2}]',
        list[FilesystemChange],
    )
    assert [(c.path, c.kind) for c in changes] == [
        ("/dev", CHANGE_MODIFIED),
        ("/dev/kmsg", CHANGE_ADDED),
        ("/test", CHANGE_DELETED),
    ]
    assert (CHANGE_MODIFIED, CHANGE_ADDED, CHANGE_DELETED) == (0, 1, 2)

    pruned = decode(
        b'{"ContainersDeleted": ["a", "b"], "SpaceReclaimed": 1024}', ContainerPruneResponse
    )
    assert pruned.containers_deleted == ["a", "b"] and pruned.space_reclaimed == 1024
    none_pruned = decode(
        b'{"ContainersDeleted": null, "SpaceReclaimed": 0}', ContainerPruneResponse
    )
    assert none_pruned.containers_deleted is None

    updated = decode(b'{"Warnings": ["Published ports are discarded"]}', ContainerUpdateResponse)
    assert updated.warnings == ["Published ports are discarded"]


# ---------------------------------------------------------------------------------------------
# Encoding request bodies
# ---------------------------------------------------------------------------------------------


def test_create_body_encodes_engine_names_and_omits_none() -> None:
    body = ContainerCreateBody(
        image="x", cmd=["true"], host_config=HostConfig(network_mode="none", auto_remove=False)
    )
    assert msgspec.json.encode(body) == (
        b'{"Cmd":["true"],"Image":"x","HostConfig":{"NetworkMode":"none","AutoRemove":false}}'
    )


def test_create_body_full_round_trip() -> None:
    body = ContainerCreateBody(
        image="busybox",
        exposed_ports={"80/tcp": {}},
        labels={"a": "b"},
        host_config=HostConfig(
            port_bindings={"80/tcp": [PortBinding(host_ip="127.0.0.1", host_port="8080")]},
            blkio_device_read_iops=[ThrottleDevice(path="/dev/sda", rate=10)],
            io_maximum_iops=5,
            uts_mode="host",
            container_id_file="/tmp/cid",
            memory=0,
        ),
        networking_config=NetworkingConfig(
            endpoints_config={"appnet": EndpointSettings(aliases=["web"], ip_address="10.0.0.5")}
        ),
    )
    encoded = msgspec.json.decode(msgspec.json.encode(body))
    assert encoded == {
        "ExposedPorts": {"80/tcp": {}},
        "Image": "busybox",
        "Labels": {"a": "b"},
        "HostConfig": {
            "Memory": 0,
            "BlkioDeviceReadIOps": [{"Path": "/dev/sda", "Rate": 10}],
            "IOMaximumIOps": 5,
            "ContainerIDFile": "/tmp/cid",
            "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
            "UTSMode": "host",
        },
        "NetworkingConfig": {
            "EndpointsConfig": {"appnet": {"Aliases": ["web"], "IPAddress": "10.0.0.5"}}
        },
    }
    assert msgspec.json.decode(msgspec.json.encode(body), type=ContainerCreateBody) == body


def test_update_body() -> None:
    body = ContainerResources(
        memory=268435456,
        kernel_memory_tcp=None,
        restart_policy=RestartPolicy(name="on-failure", maximum_retry_count=3),
    )
    assert msgspec.json.encode(body) == (
        b'{"Memory":268435456,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}'
    )
    # HostConfig is a ContainerResources: one struct serves create and update.
    assert issubclass(HostConfig, ContainerResources)


def test_events_are_not_tracked_by_the_cyclic_gc() -> None:
    # a stream decodes events by the hundred thousand and a fleet holds many engines' read-ahead
    # at once: tracked, they made CPython's cyclic collector run hundreds of times per stream
    # (benchmarks/README.md, "A fleet's merged events"); the reasoning is in models/events.py
    import gc

    from aiodockersock.models import EventMessage, HostEvent
    from aiodockersock.models.events import with_legacy_fields

    line = (
        b'{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":'
        b'{"name":"web","image":"nginx","com.example/\xc3\xa9t\xc3\xa9":"1"}},'
        b'"scope":"local","time":1,"timeNano":1000000001}'
    )
    event = msgspec.json.decode(line, type=EventMessage)
    assert event.actor is not None and event.actor.attributes is not None
    for obj in (event, event.actor, event.actor.attributes, HostEvent("e1", event),
                with_legacy_fields(event)):
        assert not gc.is_tracked(obj), type(obj).__name__
