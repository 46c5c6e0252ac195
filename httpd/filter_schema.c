/*
 * filter_schema.c — the selectable fields of each list element type, as
 * go-bexpr derives them from Consul's Go structs (field names as in the
 * JSON; maps take any key; a slice of structs selects into its elements).
 * Fields cairn does not render evaluate as Go's zero value.
 * Reference: Consul agent/structs/structs.go (Node, ServiceNode,
 * NodeService, HealthCheck, CheckServiceNode, ConnectProxyConfig),
 * api/agent.go (AgentService, AgentMember); spec/consul-api.md §1.8, §2.0.
 */
#include <stddef.h>

#include "filter.h"

#define END { NULL, FILTER_STR, NULL }

static const struct filter_field addr_fields[] = {
	{ "Address", FILTER_STR, NULL },
	{ "Port", FILTER_NUM, NULL },
	END,
};

static const struct filter_field weights_fields[] = {
	{ "Passing", FILTER_NUM, NULL },
	{ "Warning", FILTER_NUM, NULL },
	END,
};

static const struct filter_field connect_fields[] = {
	{ "Native", FILTER_BOOL, NULL },
	END,
};

static const struct filter_field upstream_fields[] = {
	{ "DestinationType", FILTER_STR, NULL },
	{ "DestinationNamespace", FILTER_STR, NULL },
	{ "DestinationPartition", FILTER_STR, NULL },
	{ "DestinationPeer", FILTER_STR, NULL },
	{ "DestinationName", FILTER_STR, NULL },
	{ "Datacenter", FILTER_STR, NULL },
	{ "LocalBindAddress", FILTER_STR, NULL },
	{ "LocalBindPort", FILTER_NUM, NULL },
	{ "LocalBindSocketPath", FILTER_STR, NULL },
	{ "LocalBindSocketMode", FILTER_STR, NULL },
	{ "CentrallyConfigured", FILTER_BOOL, NULL },
	END,
};

static const struct filter_field mode_fields[] = {
	{ "Mode", FILTER_STR, NULL },
	END,
};

static const struct filter_field tproxy_fields[] = {
	{ "OutboundListenerPort", FILTER_NUM, NULL },
	{ "DialedDirectly", FILTER_BOOL, NULL },
	END,
};

static const struct filter_field expose_path_fields[] = {
	{ "ListenerPort", FILTER_NUM, NULL },
	{ "Path", FILTER_STR, NULL },
	{ "LocalPathPort", FILTER_NUM, NULL },
	{ "Protocol", FILTER_STR, NULL },
	{ "ParsedFromCheck", FILTER_BOOL, NULL },
	END,
};

static const struct filter_field expose_fields[] = {
	{ "Checks", FILTER_BOOL, NULL },
	{ "Paths", FILTER_STRUCTLIST, expose_path_fields },
	END,
};

static const struct filter_field proxy_fields[] = {
	{ "DestinationServiceName", FILTER_STR, NULL },
	{ "DestinationServiceID", FILTER_STR, NULL },
	{ "LocalServiceAddress", FILTER_STR, NULL },
	{ "LocalServicePort", FILTER_NUM, NULL },
	{ "LocalServiceSocketPath", FILTER_STR, NULL },
	{ "Mode", FILTER_STR, NULL },
	{ "TransparentProxy", FILTER_STRUCT, tproxy_fields },
	{ "Upstreams", FILTER_STRUCTLIST, upstream_fields },
	{ "MeshGateway", FILTER_STRUCT, mode_fields },
	{ "Expose", FILTER_STRUCT, expose_fields },
	END,
};

const struct filter_field filter_schema_node[] = {
	{ "ID", FILTER_STR, NULL },
	{ "Node", FILTER_STR, NULL },
	{ "Address", FILTER_STR, NULL },
	{ "Datacenter", FILTER_STR, NULL },
	{ "PeerName", FILTER_STR, NULL },
	{ "TaggedAddresses", FILTER_STRMAP, NULL },
	{ "Meta", FILTER_STRMAP, NULL },
	{ "CreateIndex", FILTER_NUM, NULL },
	{ "ModifyIndex", FILTER_NUM, NULL },
	END,
};

const struct filter_field filter_schema_service_node[] = {
	{ "ID", FILTER_STR, NULL },
	{ "Node", FILTER_STR, NULL },
	{ "Address", FILTER_STR, NULL },
	{ "Datacenter", FILTER_STR, NULL },
	{ "TaggedAddresses", FILTER_STRMAP, NULL },
	{ "NodeMeta", FILTER_STRMAP, NULL },
	{ "ServiceKind", FILTER_STR, NULL },
	{ "ServiceID", FILTER_STR, NULL },
	{ "ServiceName", FILTER_STR, NULL },
	{ "ServiceTags", FILTER_STRLIST, NULL },
	{ "ServiceAddress", FILTER_STR, NULL },
	{ "ServiceTaggedAddresses", FILTER_STRUCTMAP, addr_fields },
	{ "ServiceWeights", FILTER_STRUCT, weights_fields },
	{ "ServiceMeta", FILTER_STRMAP, NULL },
	{ "ServicePort", FILTER_NUM, NULL },
	{ "ServiceSocketPath", FILTER_STR, NULL },
	{ "ServiceEnableTagOverride", FILTER_BOOL, NULL },
	{ "ServiceProxy", FILTER_STRUCT, proxy_fields },
	{ "ServiceConnect", FILTER_STRUCT, connect_fields },
	{ "PeerName", FILTER_STR, NULL },
	{ "CreateIndex", FILTER_NUM, NULL },
	{ "ModifyIndex", FILTER_NUM, NULL },
	END,
};

const struct filter_field filter_schema_node_service[] = {
	{ "Kind", FILTER_STR, NULL },
	{ "ID", FILTER_STR, NULL },
	{ "Service", FILTER_STR, NULL },
	{ "Tags", FILTER_STRLIST, NULL },
	{ "Address", FILTER_STR, NULL },
	{ "TaggedAddresses", FILTER_STRUCTMAP, addr_fields },
	{ "Meta", FILTER_STRMAP, NULL },
	{ "Port", FILTER_NUM, NULL },
	{ "SocketPath", FILTER_STR, NULL },
	{ "Weights", FILTER_STRUCT, weights_fields },
	{ "EnableTagOverride", FILTER_BOOL, NULL },
	{ "Proxy", FILTER_STRUCT, proxy_fields },
	{ "Connect", FILTER_STRUCT, connect_fields },
	{ "PeerName", FILTER_STR, NULL },
	{ "CreateIndex", FILTER_NUM, NULL },
	{ "ModifyIndex", FILTER_NUM, NULL },
	END,
};

const struct filter_field filter_schema_agent_service[] = {
	{ "Kind", FILTER_STR, NULL },
	{ "ID", FILTER_STR, NULL },
	{ "Service", FILTER_STR, NULL },
	{ "Tags", FILTER_STRLIST, NULL },
	{ "Meta", FILTER_STRMAP, NULL },
	{ "Port", FILTER_NUM, NULL },
	{ "Address", FILTER_STR, NULL },
	{ "SocketPath", FILTER_STR, NULL },
	{ "TaggedAddresses", FILTER_STRUCTMAP, addr_fields },
	{ "Weights", FILTER_STRUCT, weights_fields },
	{ "EnableTagOverride", FILTER_BOOL, NULL },
	{ "CreateIndex", FILTER_NUM, NULL },
	{ "ModifyIndex", FILTER_NUM, NULL },
	{ "ContentHash", FILTER_STR, NULL },
	{ "Proxy", FILTER_STRUCT, proxy_fields },
	{ "Connect", FILTER_STRUCT, connect_fields },
	{ "PeerName", FILTER_STR, NULL },
	{ "Datacenter", FILTER_STR, NULL },
	END,
};

static const struct filter_field definition_fields[] = {
	{ "HTTP", FILTER_STR, NULL },
	{ "TLSServerName", FILTER_STR, NULL },
	{ "TLSSkipVerify", FILTER_BOOL, NULL },
	{ "Header", FILTER_STRMAP, NULL },
	{ "Method", FILTER_STR, NULL },
	{ "Body", FILTER_STR, NULL },
	{ "TCP", FILTER_STR, NULL },
	{ "Interval", FILTER_STR, NULL },
	{ "Timeout", FILTER_STR, NULL },
	{ "DeregisterCriticalServiceAfter", FILTER_STR, NULL },
	{ "ScriptArgs", FILTER_STRLIST, NULL },
	END,
};

const struct filter_field filter_schema_check[] = {
	{ "Node", FILTER_STR, NULL },
	{ "CheckID", FILTER_STR, NULL },
	{ "Name", FILTER_STR, NULL },
	{ "Status", FILTER_STR, NULL },
	{ "Notes", FILTER_STR, NULL },
	{ "Output", FILTER_STR, NULL },
	{ "ServiceID", FILTER_STR, NULL },
	{ "ServiceName", FILTER_STR, NULL },
	{ "ServiceTags", FILTER_STRLIST, NULL },
	{ "Type", FILTER_STR, NULL },
	{ "Interval", FILTER_STR, NULL },
	{ "Timeout", FILTER_STR, NULL },
	{ "ExposedPort", FILTER_NUM, NULL },
	{ "PeerName", FILTER_STR, NULL },
	{ "Definition", FILTER_STRUCT, definition_fields },
	{ "CreateIndex", FILTER_NUM, NULL },
	{ "ModifyIndex", FILTER_NUM, NULL },
	END,
};

const struct filter_field filter_schema_entry[] = {
	{ "Node", FILTER_STRUCT, filter_schema_node },
	{ "Service", FILTER_STRUCT, filter_schema_node_service },
	{ "Checks", FILTER_STRUCTLIST, filter_schema_check },
	END,
};

const struct filter_field filter_schema_member[] = {
	{ "Name", FILTER_STR, NULL },
	{ "Addr", FILTER_STR, NULL },
	{ "Port", FILTER_NUM, NULL },
	{ "Tags", FILTER_STRMAP, NULL },
	{ "Status", FILTER_NUM, NULL },
	{ "ProtocolMin", FILTER_NUM, NULL },
	{ "ProtocolMax", FILTER_NUM, NULL },
	{ "ProtocolCur", FILTER_NUM, NULL },
	{ "DelegateMin", FILTER_NUM, NULL },
	{ "DelegateMax", FILTER_NUM, NULL },
	{ "DelegateCur", FILTER_NUM, NULL },
	END,
};
