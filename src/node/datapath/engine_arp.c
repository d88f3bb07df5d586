/* SPDX-License-Identifier: MIT */
/* Datapath engine: the ARP cache and the neighbour rules (docs/node.md "Neighbours"). */
#include "engine_private.h"

/* ---- ARP cache and neighbour rules (docs/node.md "Neighbours") ------------------------ */

struct arp_entry *
arp_find(struct lm_engine *e, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < ARP_SLOTS; i++) {
		if (e->arp[i].state != A_FREE && e->arp[i].ip == ip) {
			return &e->arp[i];
		}
	}
	return NULL;
}

/*
 * How readily a slot is given to a new address (lower first): free; expired; an unanswered
 * request; resolved but never proven by a RESPONSE, least recently refreshed first. Never:
 * static entries, entries under a MAC-change probe, and fresh entries of proven neighbours,
 * so a flood of new (even ARP-answering) addresses cannot push a serving neighbour out.
 */
static unsigned
arp_evict_rank(const struct arp_entry *a, uint64_t now)
{
	if (a->state == A_FREE) {
		return 0;
	}
	if (a->state == A_STATIC || a->probing) {
		return UINT32_MAX;
	}
	if (a->expires <= now) {
		return 1;
	}
	if (a->state == A_OK) {
		return a->proven ? UINT32_MAX : 3;
	}
	return 2;
}

/* A slot for a new address (arp_evict_rank()); NULL (counted) when none may be taken. */
static struct arp_entry *
arp_slot_new(struct lm_engine *e, uint32_t ip, uint64_t now)
{
	struct arp_entry *best = NULL;
	unsigned best_rank = UINT32_MAX;
	unsigned i;

	for (i = 0; i < ARP_SLOTS && best_rank > 0; i++) {
		struct arp_entry *a = &e->arp[i];
		unsigned r = arp_evict_rank(a, now);

		if (r < best_rank ||
			(r == best_rank && r != UINT32_MAX && a->expires < best->expires)) {
			best = a;
			best_rank = r;
		}
	}
	if (best == NULL || best_rank == UINT32_MAX) {
		e->st.arp_table_full++;
		return NULL;
	}
	memset(best, 0, sizeof(*best));
	best->ip = ip;
	return best;
}

bool
lm_engine_arp_lookup(struct lm_engine *e, uint32_t ip, uint8_t mac[LM_ETH_ALEN])
{
	struct arp_entry *a = arp_find(e, ip);

	if (a == NULL || !(a->state == A_STATIC || (a->state == A_OK && a->expires > now_cyc(e)))) {
		return false;
	}
	memcpy(mac, a->mac, LM_ETH_ALEN);
	return true;
}

/* An ARP request for ip, broadcast, or unicast to dst (a known MAC). Globally rate-limited. */
static bool
arp_send_request(struct lm_engine *e, uint32_t ip, const uint8_t *dst, uint64_t now)
{
	static const uint8_t zero[LM_ETH_ALEN];
	struct lm_pkt p;

	if (!lm_bucket_take(&e->arp_bucket, now, e->arp_cost, ARP_REQ_BURST)) {
		e->st.arp_rate++;
		return false;
	}
	if (e->io.ops->tx_alloc(e->io.ctx, &p) != 0) {
		e->st.tx_fail++;
		return false;
	}
	p.len = (uint16_t)lm_net_build_arp(p.data, LM_FRAME_MAX, 1, e->c.mac, e->c.ip, zero, ip);
	if (dst != NULL) {
		memcpy(p.data, dst, LM_ETH_ALEN); /* RFC 1122 2.3.2.1: unicast poll of the entry */
	}
	e->st.arp_requests_tx++;
	tx_one(e, &p);
	return true;
}

static void
arp_request(struct lm_engine *e, uint32_t ip, uint64_t now)
{
	struct arp_entry *a = arp_find(e, ip);

	/* One request per target per arp_timeout/4 at most. */
	if (a != NULL && a->asked != 0 && now - a->asked < e->c_arp / 4) {
		return;
	}
	if (a == NULL) {
		a = arp_slot_new(e, ip, now);
		if (a == NULL) {
			return;
		}
		a->state = A_PENDING;
	}
	if (a->state == A_STATIC) {
		return;
	}
	if (a->state == A_PENDING && a->expires <= now) {
		a->expires = now + e->c_arp; /* unresolved until a reply, given up after that */
	}
	/* An expired entry asks its last MAC: a stranger's answer is a MAC change (probed). */
	if (arp_send_request(e, ip, a->state == A_OK ? a->mac : NULL, now)) {
		a->asked = now;
	}
}

/*
 * ARP from a neighbour claiming ip is at mac (a request for our address, or a reply). New
 * entries only from requests for us or answers to our requests; an existing entry's MAC is
 * never overwritten: a different MAC starts a unicast probe of the old one (at most one per
 * entry per ARP_PROBE_HOLD arp_timeouts), and only if the old MAC stays silent for
 * arp_timeout is the change taken (arp_timers()).
 */
void
arp_input(struct lm_engine *e, uint32_t ip, const uint8_t mac[LM_ETH_ALEN], bool request,
	uint64_t now)
{
	struct arp_entry *a = arp_find(e, ip);

	if (a == NULL) {
		if (!request) {
			return; /* unsolicited reply or gratuitous ARP for an address we never asked */
		}
		a = arp_slot_new(e, ip, now);
		if (a == NULL) {
			return;
		}
		a->state = A_PENDING;
	}
	if (a->state == A_STATIC) {
		if (memcmp(a->mac, mac, LM_ETH_ALEN) != 0) {
			e->st.arp_conflict++;
			e->st.arp_mac_refused++;
		}
		return;
	}
	if (a->state == A_PENDING) {
		memcpy(a->mac, mac, LM_ETH_ALEN);
		a->state = A_OK;
		a->expires = now + e->c_arp_ttl;
		e->arp_learned = true;
		return;
	}
	if (memcmp(a->mac, mac, LM_ETH_ALEN) == 0) {
		a->expires = now + e->c_arp_ttl;
		if (a->probing) {
			/* The old MAC answered: the claim of another MAC was false. */
			a->probing = 0;
			e->n_probing--;
			e->st.arp_mac_kept++;
		}
		e->arp_learned = true;
		return;
	}
	e->st.arp_conflict++;
	if (a->probing) {
		return; /* one candidate at a time */
	}
	if (a->last_probe != 0 && now - a->last_probe < e->c_arp_hold) {
		e->st.arp_mac_refused++;
		return;
	}
	if (!arp_send_request(e, ip, a->mac, now)) {
		e->st.arp_mac_refused++;
		return;
	}
	a->probing = 1;
	memcpy(a->cand, mac, LM_ETH_ALEN);
	a->probe_due = now + e->c_arp;
	a->last_probe = now;
	e->n_probing++;
}

/* MAC-change probes whose old MAC stayed silent: the change is taken. */
unsigned
arp_timers(struct lm_engine *e, uint64_t now)
{
	unsigned work = 0;
	unsigned i;

	for (i = 0; i < ARP_SLOTS && e->n_probing > 0; i++) {
		struct arp_entry *a = &e->arp[i];

		if (a->probing && now >= a->probe_due) {
			memcpy(a->mac, a->cand, LM_ETH_ALEN);
			a->probing = 0;
			a->expires = now + e->c_arp_ttl;
			e->n_probing--;
			e->st.arp_mac_changed++;
			e->arp_learned = true;
			work++;
		}
	}
	return work;
}

/* MAC of a next hop if resolved; otherwise asks (rate-limited) and returns false. */
bool
arp_resolve(struct lm_engine *e, uint32_t nexthop, uint8_t mac[LM_ETH_ALEN], uint64_t now)
{
	if (nexthop == 0) {
		return false;
	}
	if (lm_engine_arp_lookup(e, nexthop, mac)) {
		return true;
	}
	arp_request(e, nexthop, now);
	return false;
}
