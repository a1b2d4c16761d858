/*
 * nova_network.c — an instance's Neutron resources (nova_internal.h): its
 * security group <prefix>-<id> holding one ingress rule per allowed CIDR on
 * the datastore's port (Trove's access model; trove_security_group_rule_cidr
 * when there is none), and its ports trove-<id>: one per requested nic, then
 * one per management network. User ports carry the instance's group;
 * management ports carry it and the management_security_groups.
 *
 * Owns nothing; may only talk to Neutron.
 */
#define LOG_MODULE "compute"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "compute/nova_internal.h"

/* A Neutron id or name as a query value: ids and our names need no escaping;
 * anything else is refused rather than sent. */
static bool plain(const char *s)
{
	if (!s || !*s || strlen(s) >= NOVA_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* 1 found, 0 none, -1 error. */
static int secgroup_find(const char *id, char out[NOVA_ID_MAX], struct ct_error *err)
{
	char name[NOVA_NAME_MAX], path[256];
	nova_secgroup_name(id, name);
	snprintf(path, sizeof path, "/v2.0/security-groups?name=%s&fields=id&fields=name", name);
	json_t *list =
		nova_list("network", path, "security_groups", "listing security groups", err);
	if (!list)
		return -1;
	const char *sid = json_string_value(json_object_get(json_array_get(list, 0), "id"));
	int found = sid && strlen(sid) < NOVA_ID_MAX;
	if (found)
		snprintf(out, NOVA_ID_MAX, "%s", sid);
	json_decref(list);
	return found;
}

static const char *cidr_at(const json_t *cidrs, size_t i)
{
	return json_array_size(cidrs) ? json_string_value(json_array_get(cidrs, i))
				      : cfg_str(CFG_TROVE_SG_RULE_CIDR);
}

static size_t cidr_count(const json_t *cidrs)
{
	return json_array_size(cidrs) ? json_array_size(cidrs) : 1;
}

static bool rule_wanted(const json_t *rule, int port, const json_t *cidrs)
{
	const char *prefix = json_string_value(json_object_get(rule, "remote_ip_prefix"));
	const char *proto = json_string_value(json_object_get(rule, "protocol"));
	if (!prefix || !proto || strcmp(proto, "tcp") ||
	    json_integer_value(json_object_get(rule, "port_range_min")) != port ||
	    json_integer_value(json_object_get(rule, "port_range_max")) != port)
		return false;
	for (size_t i = 0; i < cidr_count(cidrs); i++)
		if (cidr_at(cidrs, i) && !strcmp(cidr_at(cidrs, i), prefix))
			return true;
	return false;
}

static int rules_replace(const char *sid, int port, const json_t *cidrs, struct ct_error *err)
{
	char path[256];
	snprintf(path, sizeof path,
		 "/v2.0/security-group-rules?security_group_id=%s&direction=ingress", sid);
	json_t *rules = nova_list("network", path, "security_group_rules",
				  "listing security group rules", err);
	if (!rules)
		return -1;
	size_t n = cidr_count(cidrs);
	bool *have = calloc(n, sizeof *have);
	int rc = have ? 0 : ct_fail(err, 500, "out of memory");
	size_t i;
	json_t *rule;
	static const long gone_ok[] = {204, 404, 0};
	json_array_foreach (rules, i, rule) {
		if (rc)
			break;
		const char *rid = json_string_value(json_object_get(rule, "id"));
		const char *prefix = json_string_value(json_object_get(rule, "remote_ip_prefix"));
		bool keep = rule_wanted(rule, port, cidrs);
		for (size_t k = 0; keep && k < n; k++)
			if (!have[k] && !strcmp(cidr_at(cidrs, k), prefix)) {
				have[k] = true;
				break;
			}
		if (keep || !rid)
			continue;
		snprintf(path, sizeof path, "/v2.0/security-group-rules/%s", rid);
		rc = nova_call("network", "DELETE", path, NULL, "deleting a security group rule",
			       gone_ok, NULL, NULL, err);
	}
	for (size_t k = 0; !rc && k < n; k++) {
		const char *cidr = cidr_at(cidrs, k);
		if (have[k])
			continue;
		if (!cidr || !*cidr) {
			rc = ct_fail(err, 400, "An allowed CIDR is not a string.");
			break;
		}
		json_t *body = json_pack("{s:{s:s,s:s,s:s,s:s,s:i,s:i,s:s}}", "security_group_rule",
					 "security_group_id", sid, "direction", "ingress",
					 "ethertype", strchr(cidr, ':') ? "IPv6" : "IPv4",
					 "protocol", "tcp", "port_range_min", port,
					 "port_range_max", port, "remote_ip_prefix", cidr);
		static const long made[] = {201, 409, 0}; /* 409: the same rule exists */
		rc = body ? nova_call("network", "POST", "/v2.0/security-group-rules", body,
				      "adding a security group rule", made, NULL, NULL, err)
			  : ct_fail(err, 500, "out of memory");
		json_decref(body);
	}
	free(have);
	json_decref(rules);
	return rc;
}

int nova_secgroup_ensure(const char *id, int port, const json_t *cidrs, char out[NOVA_ID_MAX],
			 struct ct_error *err)
{
	int found = secgroup_find(id, out, err);
	if (found < 0)
		return -1;
	if (!found) {
		char name[NOVA_NAME_MAX], description[128];
		nova_secgroup_name(id, name);
		snprintf(description, sizeof description, "ctrove instance %s", id);
		json_t *body = json_pack("{s:{s:s,s:s}}", "security_group", "name", name,
					 "description", description);
		json_t *reply = NULL;
		int rc = body ? nova_call("network", "POST", "/v2.0/security-groups", body,
					  "creating a security group", NULL, NULL, &reply, err)
			      : ct_fail(err, 500, "out of memory");
		json_decref(body);
		if (rc)
			return -1;
		const char *sid = json_string_value(
			json_object_get(json_object_get(reply, "security_group"), "id"));
		if (!sid || strlen(sid) >= NOVA_ID_MAX) {
			json_decref(reply);
			return ct_fail(err, 500,
				       "Neutron: creating a security group answered no id.");
		}
		snprintf(out, NOVA_ID_MAX, "%s", sid);
		json_decref(reply);
	}
	return rules_replace(out, port, cidrs, err);
}

int nova_secgroup_set_rules(const char *id, int port, const json_t *cidrs, struct ct_error *err)
{
	char sid[NOVA_ID_MAX];
	int found = secgroup_find(id, sid, err);
	if (found < 0)
		return -1;
	if (!found)
		return ct_fail(err, 404, "Instance %s has no security group.", id);
	return rules_replace(sid, port, cidrs, err);
}

int nova_secgroup_delete(const char *id, struct ct_error *err)
{
	char sid[NOVA_ID_MAX], path[128];
	int found = secgroup_find(id, sid, err);
	if (found <= 0)
		return found;
	snprintf(path, sizeof path, "/v2.0/security-groups/%s", sid);
	static const long ok[] = {204, 404, 0};
	return nova_call("network", "DELETE", path, NULL, "deleting a security group", ok, NULL,
			 NULL, err);
}

static json_t *ports_of(const char *id, struct ct_error *err)
{
	char name[NOVA_NAME_MAX], path[256];
	nova_resource_name(id, name);
	snprintf(path, sizeof path, "/v2.0/ports?name=%s", name);
	return nova_list("network", path, "ports", "listing ports", err);
}

/* One port to have: on network, with the ip/subnet asked for (may be NULL). */
struct wanted_port {
	const char *network, *subnet, *ip;
	bool management;
};

static int wanted_ports(const json_t *nics, struct wanted_port *out, size_t *count,
			char (*mgmt)[NOVA_ID_MAX], struct ct_error *err)
{
	size_t n = 0, i;
	const json_t *nic;
	json_array_foreach (nics, i, nic) {
		if (n == NOVA_PORTS_MAX)
			return ct_fail(err, 400, "An instance may have at most %d nics.",
				       NOVA_PORTS_MAX);
		const char *net = json_string_value(json_object_get(nic, "net-id"));
		if (!net)
			net = json_string_value(json_object_get(nic, "network_id"));
		if (!json_is_object(nic) || !plain(net))
			return ct_fail(err, 400,
				       "Each nic needs a valid net-id (or network_id); port-id is "
				       "not supported.");
		const char *ip = json_string_value(json_object_get(nic, "v4-fixed-ip"));
		out[n++] = (struct wanted_port){
			net, json_string_value(json_object_get(nic, "subnet_id")),
			ip ? ip : json_string_value(json_object_get(nic, "ip_address")), false};
	}
	const char *list = cfg_str(CFG_MANAGEMENT_NETWORKS);
	size_t m = 0;
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ", ");
		if (len) {
			if (n == NOVA_PORTS_MAX || len >= NOVA_ID_MAX)
				return ct_fail(err, 500, "management_networks is too long.");
			snprintf(mgmt[m], NOVA_ID_MAX, "%.*s", (int)len, p);
			out[n++] = (struct wanted_port){mgmt[m++], NULL, NULL, true};
		}
		p += len;
		p += strspn(p, ", ");
	}
	if (!n)
		return ct_fail(err, 400,
			       "The instance has no network: give it a nic, or set "
			       "management_networks.");
	*count = n;
	return 0;
}

static json_t *port_groups(const char *secgroup, bool management)
{
	json_t *groups = json_pack("[s]", secgroup);
	const char *list = management ? cfg_str(CFG_MANAGEMENT_SECURITY_GROUPS) : "";
	for (const char *p = list; groups && p && *p;) {
		size_t len = strcspn(p, ", ");
		if (len)
			json_array_append_new(groups, json_stringn(p, len));
		p += len;
		p += strspn(p, ", ");
	}
	return groups;
}

static int create_port(const char *id, const struct wanted_port *w, const char *secgroup,
		       json_t **port, struct ct_error *err)
{
	char name[NOVA_NAME_MAX], description[128];
	nova_resource_name(id, name);
	snprintf(description, sizeof description, "ctrove instance %s (%s)", id,
		 w->management ? "management" : "user");
	json_t *body = json_pack("{s:{s:s,s:s,s:s,s:o}}", "port", "name", name, "network_id",
				 w->network, "description", description, "security_groups",
				 port_groups(secgroup, w->management));
	if (body && (w->ip || w->subnet)) {
		json_t *fixed = json_object();
		if (w->ip)
			json_object_set_new(fixed, "ip_address", json_string(w->ip));
		if (w->subnet)
			json_object_set_new(fixed, "subnet_id", json_string(w->subnet));
		json_object_set_new(json_object_get(body, "port"), "fixed_ips",
				    json_pack("[o]", fixed));
	}
	json_t *reply = NULL;
	int rc = body ? nova_call("network", "POST", "/v2.0/ports", body, "creating a port", NULL,
				  NULL, &reply, err)
		      : ct_fail(err, 500, "out of memory");
	json_decref(body);
	if (rc)
		return -1;
	*port = json_incref(json_object_get(reply, "port"));
	json_decref(reply);
	return *port ? 0 : ct_fail(err, 500, "Neutron: creating a port answered no port.");
}

int nova_ports_ensure(const char *id, const json_t *nics, const char *secgroup,
		      struct nova_ports *out, struct ct_error *err)
{
	struct wanted_port wanted[NOVA_PORTS_MAX];
	char mgmt[NOVA_PORTS_MAX][NOVA_ID_MAX];
	size_t n = 0;
	memset(out, 0, sizeof *out);
	if (wanted_ports(nics, wanted, &n, mgmt, err))
		return -1;
	json_t *existing = ports_of(id, err);
	if (!existing)
		return -1;
	int rc = 0;
	for (size_t w = 0; w < n && !rc; w++) {
		/* A port of an interrupted build on that network is used again. */
		json_t *port = NULL;
		size_t i;
		json_t *p;
		json_array_foreach (existing, i, p) {
			const char *net = json_string_value(json_object_get(p, "network_id"));
			if (net && !strcmp(net, wanted[w].network)) {
				port = json_incref(p);
				json_array_remove(existing, i);
				break;
			}
		}
		if (!port && create_port(id, &wanted[w], secgroup, &port, err)) {
			rc = -1;
			break;
		}
		const char *pid = json_string_value(json_object_get(port, "id"));
		const char *ip = json_string_value(json_object_get(
			json_array_get(json_object_get(port, "fixed_ips"), 0), "ip_address"));
		if (!pid || strlen(pid) >= NOVA_ID_MAX) {
			rc = ct_fail(err, 500, "Neutron: a port has no id.");
		} else {
			snprintf(out->ids[out->count++], NOVA_ID_MAX, "%s", pid);
			if (!out->address[0] && ip)
				snprintf(out->address, sizeof out->address, "%s", ip);
		}
		json_decref(port);
	}
	json_decref(existing);
	if (!rc && !out->address[0])
		rc = ct_fail(err, 400,
			     "No port of the instance got a fixed IP: its networks need "
			     "a subnet.");
	return rc;
}

int nova_ports_delete(const char *id, struct ct_error *err)
{
	json_t *ports = ports_of(id, err);
	if (!ports)
		return -1;
	int rc = 0;
	size_t i;
	json_t *p;
	static const long ok[] = {204, 404, 0};
	json_array_foreach (ports, i, p) {
		const char *pid = json_string_value(json_object_get(p, "id"));
		char path[128];
		if (!pid || strlen(pid) >= NOVA_ID_MAX)
			continue;
		snprintf(path, sizeof path, "/v2.0/ports/%s", pid);
		if ((rc = nova_call("network", "DELETE", path, NULL, "deleting a port", ok, NULL,
				    NULL, err)))
			break;
	}
	json_decref(ports);
	return rc;
}
