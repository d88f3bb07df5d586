/* SPDX-License-Identifier: MIT */
/* Report intake and builder: verified records of licensed chips -> per-chip status, last
 * proof, evidence, open alerts and history (lm_report.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "landmark/lm_report.h"

/* chip key -> licence index (open addressing; SIZE_MAX in lic: unlicensed key) */
struct slot {
	uint8_t key[LM_PK_LEN];
	size_t lic;
	bool used;
};

struct lm_report_intake {
	const struct lm_licence_set *set;
	struct lm_locator *loc;
	int64_t since, until;
	struct slot *tab;
	size_t cap, n;
	bool *revoked; /* per licence: a record made with a revoked key was seen */
	struct lm_coverage_landmark *lms;
	size_t n_lms;
	size_t n_unlicensed_keys;
	struct lm_report_intake_stats st;
};

static size_t
slot_of(const struct lm_report_intake *in, const uint8_t key[LM_PK_LEN])
{
	uint64_t h;
	size_t i;

	memcpy(&h, key, sizeof(h)); /* keys are uniformly random points: any 8 bytes hash */
	for (i = (size_t)h & (in->cap - 1);; i = (i + 1) & (in->cap - 1)) {
		if (!in->tab[i].used || memcmp(in->tab[i].key, key, LM_PK_LEN) == 0) {
			return i;
		}
	}
}

static int
grow(struct lm_report_intake *in)
{
	struct slot *old = in->tab;
	size_t oc = in->cap, i;

	in->cap = oc ? 2 * oc : 1024;
	in->tab = calloc(in->cap, sizeof(*in->tab));
	if (in->tab == NULL) {
		in->tab = old;
		in->cap = oc;
		return -ENOMEM;
	}
	for (i = 0; i < oc; i++) {
		if (old[i].used) {
			in->tab[slot_of(in, old[i].key)] = old[i];
		}
	}
	free(old);
	return 0;
}

struct lm_report_intake *
lm_report_intake_create(const struct lm_licence_set *set, const struct lm_locator_conf *lc,
	int64_t since, int64_t until)
{
	struct lm_locator_conf c = *lc;
	struct lm_report_intake *in;

	if (set == NULL || since > until) {
		errno = EINVAL;
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	in->set = set;
	in->since = since;
	in->until = until;
	c.allowed = NULL; /* each licence is judged against its own place */
	c.min_key_class = LM_KEY_SOFTWARE; /* and class (lm_place_judge) */
	in->loc = lm_locator_create(&c);
	in->revoked = calloc(lm_licence_set_count(set) + 1, sizeof(bool));
	if (in->loc == NULL || in->revoked == NULL || grow(in) != 0) {
		int e = in->loc == NULL ? errno : ENOMEM;

		lm_report_intake_destroy(in);
		errno = e;
		return NULL;
	}
	return in;
}

void
lm_report_intake_destroy(struct lm_report_intake *in)
{
	if (in == NULL) {
		return;
	}
	lm_locator_destroy(in->loc);
	free(in->tab);
	free(in->revoked);
	free(in->lms);
	free(in);
}

struct lm_locator *
lm_report_intake_locator(struct lm_report_intake *in)
{
	return in->loc;
}

void
lm_report_intake_stats(const struct lm_report_intake *in, struct lm_report_intake_stats *st)
{
	*st = in->st;
}

const struct lm_coverage_landmark *
lm_report_intake_landmarks(const struct lm_report_intake *in, size_t *n)
{
	*n = in->n_lms;
	return in->lms;
}

static int
note_landmark(struct lm_report_intake *in, const struct lm_record *r)
{
	double lat = lm_e7_to_deg(r->lat_e7), lon = lm_e7_to_deg(r->lon_e7);
	struct lm_coverage_landmark *nv;
	size_t i;

	for (i = 0; i < in->n_lms; i++) {
		if (!strcmp(in->lms[i].name, r->site) && in->lms[i].lat == lat &&
			in->lms[i].lon == lon) {
			return 0;
		}
	}
	if (in->n_lms >= LM_REGION_MAX_CAPS) {
		return 0; /* more sites than one solve takes: coverage uses the first ones */
	}
	nv = realloc(in->lms, (in->n_lms + 1) * sizeof(*nv));
	if (nv == NULL) {
		return -ENOMEM;
	}
	in->lms = nv;
	memset(&nv[in->n_lms], 0, sizeof(nv[0]));
	snprintf(nv[in->n_lms].name, sizeof(nv[0].name), "%s", r->site);
	nv[in->n_lms].lat = lat;
	nv[in->n_lms].lon = lon;
	in->n_lms++;
	return 0;
}

int
lm_report_intake_add(
	struct lm_report_intake *in, const struct lm_record *r, const uint8_t *rec, size_t len)
{
	const struct lm_licence *l;
	struct lm_locate_meas m;
	char why[200];
	int64_t t;
	size_t s;
	int rc;

	in->st.offered++;
	rc = note_landmark(in, r);
	if (rc != 0) {
		return rc;
	}
	if (r->prover.kind != LM_CRED_CHIP) {
		in->st.landmark++;
		return 0;
	}
	t = r->t_start_ns / 1000000000;
	if (r->t_start_ns < 0 || t < in->since || t > in->until) {
		in->st.outside++;
		return 0;
	}
	if (in->n * 2 >= in->cap && grow(in) != 0) {
		return -ENOMEM;
	}
	s = slot_of(in, r->prover.u.chip.chip_pk);
	if (!in->tab[s].used) {
		l = lm_licence_set_find_cert(in->set, &r->prover.u.chip);
		memcpy(in->tab[s].key, r->prover.u.chip.chip_pk, LM_PK_LEN);
		in->tab[s].lic = l != NULL ? lm_licence_set_index(in->set, l) : SIZE_MAX;
		in->tab[s].used = true;
		in->n++;
		if (l == NULL) {
			in->n_unlicensed_keys++;
		}
	}
	if (in->tab[s].lic == SIZE_MAX) {
		in->st.unlicensed++;
		return 0;
	}
	if (lm_locate_meas_from_record(&m, r, rec, len) != 0) {
		return -EINVAL;
	}
	if (lm_locator_revoked(in->loc, &m, why, sizeof(why))) {
		in->revoked[in->tab[s].lic] = true;
		in->st.revoked++;
		return 0;
	}
	rc = lm_locator_add(in->loc, &m);
	if (rc < 0) {
		return rc;
	}
	if (rc == 1) {
		return 0; /* excluded landmark */
	}
	in->st.kept++;
	return 1;
}

/* ---- the builder ---- */

struct lic_state {
	struct lm_status_proof *proofs;
	size_t n, cap;
	bool clone;
	char clone_ev[2][LM_LOCATE_HASH_HEX];
};

static const char *const reasons[LM_STATUS__COUNT] = {
	"proven inside its licensed place within the proof interval",
	"heard within the proof interval, but no record proves it inside its place",
	"proven outside its licensed place within the proof interval",
	"no record within the proof interval",
	"the landmark network cannot prove this place (coverage): the operator's gap",
	"its key was seen at two places at once (clone or relay)",
	"its key is revoked",
	"the licence is not valid at the end of the period",
};

static json_t *
hexs(const uint8_t *b, size_t n)
{
	char h[2 * LM_SIG_LEN + 1];

	sodium_bin2hex(h, sizeof(h), b, n);
	return json_string(h);
}

static json_t *
int_or_null(bool ok, double v)
{
	return ok && isfinite(v) ? json_integer((json_int_t)v) : json_null();
}

static json_t *
proof_json(const struct lm_status_proof *p)
{
	json_t *o, *ev = json_array();
	size_t i;

	if (p == NULL) {
		json_decref(ev);
		return json_null();
	}
	o = json_object();
	json_object_set_new(o, "t_start_ns", json_integer(p->t_start_ns));
	json_object_set_new(o, "t_end_ns", json_integer(p->t_end_ns));
	json_object_set_new(o, "verdict", json_string(lm_place_verdict_str(p->verdict)));
	json_object_set_new(o, "key_class", json_string(lm_key_class_str(p->key_class)));
	json_object_set_new(o, "lat_e7", int_or_null(isfinite(p->lat), lm_deg_to_e7(p->lat)));
	json_object_set_new(o, "lon_e7", int_or_null(isfinite(p->lon), lm_deg_to_e7(p->lon)));
	json_object_set_new(o, "area_km2", int_or_null(true, ceil(p->area_km2)));
	json_object_set_new(o, "far_m", int_or_null(isfinite(p->far_km), ceil(p->far_km * 1000)));
	json_object_set_new(o, "records", json_integer((json_int_t)p->n_records));
	for (i = 0; i < p->n_evidence; i++) {
		json_array_append_new(ev, json_string(p->evidence[i]));
	}
	json_object_set_new(o, "evidence", ev);
	return o;
}

static void
add_ev(json_t *a, const char *h)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		if (!strcmp(json_string_value(v), h)) {
			return;
		}
	}
	json_array_append_new(a, json_string(h));
}

static json_t *
place_json(const struct lm_licence *l)
{
	json_t *o = json_object(), *a;
	size_t i;

	if (l->has_site) {
		json_object_set_new(o, "site",
			json_pack("{s:s, s:i, s:i, s:I}", "name", l->site_name, "lat_e7", l->lat_e7,
				"lon_e7", l->lon_e7, "radius_m", (json_int_t)l->radius_m));
	}
	if (l->n_countries > 0) {
		a = json_array();
		for (i = 0; i < l->n_countries; i++) {
			json_array_append_new(a, json_string(l->countries[i]));
		}
		json_object_set_new(o, "countries", a);
	}
	return o;
}

/* One chip object of the report. */
static int
chip_json(size_t idx, const struct lm_licence *l, const struct lm_status_input *si,
	const char (*clone_ev)[LM_LOCATE_HASH_HEX], int64_t since, int64_t until, json_t **out)
{
	struct lm_status_change ch[LM_REPORT_MAX_HISTORY];
	struct lm_status_result r;
	json_t *o, *ev, *al, *hist;
	char id[100];
	size_t n = 0, i;
	int rc;

	rc = lm_status_eval(si, &r);
	if (rc == 0) {
		rc = lm_status_history(si, since, until, ch, LM_REPORT_MAX_HISTORY, &n);
	}
	if (rc != 0) {
		return rc;
	}
	o = json_object();
	lm_licence_id_str(l, id, sizeof(id));
	json_object_set_new(o, "index", json_integer((json_int_t)idx));
	json_object_set_new(o, "chip", json_string(id));
	json_object_set_new(o, "label", json_string(l->label));
	json_object_set_new(o, "place", place_json(l));
	json_object_set_new(o, "not_before", json_integer(l->not_before));
	json_object_set_new(o, "not_after", json_integer(l->not_after));
	json_object_set_new(o, "proof_interval_s", json_integer(l->proof_interval_s));
	json_object_set_new(o, "min_key_class", json_string(lm_key_class_str(l->min_key_class)));
	json_object_set_new(o, "status", json_string(lm_status_str(r.status)));
	json_object_set_new(o, "reason", json_string(reasons[r.status]));
	json_object_set_new(o, "coverable", json_boolean(si->coverable));
	json_object_set_new(o, "windows", json_integer((json_int_t)si->n_proofs));
	json_object_set_new(o, "last_heard_ns",
		r.last_heard_ns == INT64_MIN ? json_null() : json_integer(r.last_heard_ns));
	json_object_set_new(o, "due", r.due ? json_integer(r.due) : json_null());
	json_object_set_new(o, "last_proof", proof_json(r.last_inside));
	json_object_set_new(o, "decisive", proof_json(r.decisive));
	ev = json_array();
	for (i = 0; r.decisive && i < r.decisive->n_evidence; i++) {
		add_ev(ev, r.decisive->evidence[i]);
	}
	for (i = 0; r.last_inside && i < r.last_inside->n_evidence; i++) {
		add_ev(ev, r.last_inside->evidence[i]);
	}
	for (i = 0; r.status == LM_STATUS_CLONE && i < 2; i++) {
		if (clone_ev[i][0] != '\0') {
			add_ev(ev, clone_ev[i]);
		}
	}
	al = json_array();
	if (lm_status_is_alert(r.status)) {
		json_t *a = json_object(), *aev = json_array();
		int64_t from = n > 0 ? ch[n - 1].t : until;

		for (i = 0; r.decisive && i < r.decisive->n_evidence; i++) {
			json_array_append_new(aev, json_string(r.decisive->evidence[i]));
		}
		for (i = 0; r.status == LM_STATUS_CLONE && i < 2; i++) {
			if (clone_ev[i][0] != '\0') {
				json_array_append_new(aev, json_string(clone_ev[i]));
			}
		}
		json_object_set_new(a, "status", json_string(lm_status_str(r.status)));
		json_object_set_new(a, "since", json_integer(from));
		json_object_set_new(a, "evidence", aev);
		json_array_append_new(al, a);
	}
	hist = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(hist,
			json_pack("{s:I, s:s}", "t", (json_int_t)ch[i].t, "status",
				lm_status_str(ch[i].status)));
	}
	json_object_set_new(o, "evidence", ev);
	json_object_set_new(o, "open_alerts", al);
	json_object_set_new(o, "history", hist);
	*out = o;
	return 0;
}

static int
push_proof(struct lic_state *ls, const struct lm_status_proof *p)
{
	if (ls->n == ls->cap) {
		size_t nc = ls->cap ? 2 * ls->cap : 8;
		struct lm_status_proof *nv = realloc(ls->proofs, nc * sizeof(*nv));

		if (nv == NULL) {
			return -ENOMEM;
		}
		ls->proofs = nv;
		ls->cap = nc;
	}
	ls->proofs[ls->n++] = *p;
	return 0;
}

static size_t
lic_of_hex(const struct lm_report_intake *in, const char *hex)
{
	uint8_t key[LM_PK_LEN];
	size_t got = 0, s;

	if (sodium_hex2bin(key, sizeof(key), hex, strlen(hex), NULL, &got, NULL) != 0 ||
		got != LM_PK_LEN) {
		return SIZE_MAX;
	}
	s = slot_of(in, key);
	return in->tab[s].used ? in->tab[s].lic : SIZE_MAX;
}

/* Solve every window, judge it against its licence, scan each chip for clones. */
static int
collect(struct lm_report_intake *in, struct lm_place_cache *pc, struct lic_state *ls, char *err,
	size_t errlen)
{
	const struct lm_locate_window *win;
	const struct lm_locate_meas *meas;
	struct lm_locate_result res;
	struct lm_locate_clone cl;
	struct lm_status_proof p;
	size_t nmeas, nwin, k, j, li;
	int rc;

	rc = lm_locator_windows(in->loc, &meas, &nmeas, &win, &nwin);
	if (rc != 0) {
		return rc;
	}
	for (k = 0; k < nwin; k = j) {
		const char *chip = meas[win[k].start].chip;
		const struct lm_licence *l;
		const struct lm_geofence *gf = NULL;

		for (j = k; j < nwin && !strcmp(meas[win[j].start].chip, chip); j++) {
		}
		li = lic_of_hex(in, chip);
		if (li == SIZE_MAX) {
			continue; /* cannot happen: only licensed chips are added */
		}
		l = lm_licence_set_get(in->set, li);
		rc = lm_place_fence(pc, l, &gf, err, errlen);
		if (rc != 0) {
			return rc;
		}
		for (size_t w = k; w < j; w++) {
			memset(&res, 0, sizeof(res));
			rc = lm_locator_solve(in->loc, &win[w], &res);
			if (rc == 0 && res.region != NULL) {
				rc = lm_place_judge(l, gf, &res, &p);
				if (rc == 0) {
					rc = push_proof(&ls[li], &p);
				}
			}
			lm_locate_result_fini(&res);
			if (rc == -EINVAL) {
				rc = 0; /* a window of excluded landmarks only: nothing to judge */
			}
			if (rc != 0) {
				snprintf(err, errlen, "chip %s: solve: %s", chip, strerror(-rc));
				return rc;
			}
		}
		rc = lm_locator_clone_scan(
			in->loc, meas + win[k].start, win[j - 1].end - win[k].start, &cl);
		if (rc < 0) {
			snprintf(err, errlen, "chip %s: clone scan failed", chip);
			return rc;
		}
		if (rc == 1) {
			ls[li].clone = true;
			memcpy(ls[li].clone_ev[0], cl.a.record, LM_LOCATE_HASH_HEX);
			memcpy(ls[li].clone_ev[1], cl.b.record, LM_LOCATE_HASH_HEX);
		}
	}
	return 0;
}

static bool
revoked_key(const struct lm_report_conf *c, const uint8_t key[LM_PK_LEN], int64_t until)
{
	const struct lm_revocation_entry *e;
	size_t k;

	for (k = 0; k < c->n_revocations; k++) {
		if (c->revocations[k]->scope == LM_REVOKE_CHIP &&
			(e = lm_revocation_find(c->revocations[k], key)) != NULL &&
			e->effective <= until) {
			return true;
		}
	}
	return false;
}

/* Licences whose chip a list revokes at until: by the key a chip-key licence names, or by
 * any key its records were made with. One pass over the keys seen. */
static void
revoked_by_lists(const struct lm_report_intake *in, const struct lm_report_conf *c, bool *out)
{
	size_t i, nl = lm_licence_set_count(in->set);

	if (c->n_revocations == 0) {
		return;
	}
	for (i = 0; i < nl; i++) {
		const struct lm_licence *l = lm_licence_set_get(in->set, i);

		if (l->id_kind == LM_CHIP_ID_KEY && revoked_key(c, l->id, in->until)) {
			out[i] = true;
		}
	}
	for (i = 0; i < in->cap; i++) {
		if (in->tab[i].used && in->tab[i].lic != SIZE_MAX &&
			revoked_key(c, in->tab[i].key, in->until)) {
			out[in->tab[i].lic] = true;
		}
	}
}

json_t *
lm_report_build_from(const struct lm_licence_set *set, const struct lm_report_chip *chip,
	int64_t since, int64_t until, const struct lm_report_conf *c, char *err, size_t errlen)
{
	size_t nl = lm_licence_set_count(set), i, counts[LM_STATUS__COUNT] = {0};
	const struct lm_licence_manifest *m = lm_licence_set_manifest(set);
	json_t *doc, *chips = json_array(), *inputs = json_object(), *sum, *o;
	struct lm_status_input si;
	enum lm_status st;
	const char *k;
	json_t *v;
	int rc;

	if (chips == NULL || inputs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (since > until || (nl > 0 && chip == NULL)) {
		snprintf(err, errlen, "bad period or no chips");
		errno = EINVAL;
		json_decref(chips);
		json_decref(inputs);
		return NULL;
	}
	for (i = 0; i < nl; i++) {
		si = chip[i].in;
		si.lic = lm_licence_set_get(set, i);
		si.now = until;
		rc = chip_json(i, si.lic, &si, chip[i].clone_evidence, since, until, &o);
		if (rc != 0) {
			snprintf(err, errlen, "licences[%zu]: %s", i, strerror(-rc));
			goto fail;
		}
		if (lm_status_parse(json_string_value(json_object_get(o, "status")), &st) == 0) {
			counts[st]++;
		}
		json_array_append_new(chips, o);
	}
	if (c->inputs != NULL) {
		json_object_foreach(c->inputs, k, v)
		{
			json_object_set(inputs, k, v);
		}
	}
	sum = json_object();
	for (i = 0; i < LM_STATUS__COUNT; i++) {
		json_object_set_new(
			sum, lm_status_str((enum lm_status)i), json_integer((json_int_t)counts[i]));
	}
	doc = json_object();
	json_object_set_new(doc, "format", json_string(LM_REPORT_FORMAT));
	json_object_set_new(doc, "version", json_integer(LM_REPORT_VERSION));
	json_object_set_new(doc, "generated", json_integer(c->generated));
	json_object_set_new(doc, "period",
		json_pack("{s:I, s:I}", "since", (json_int_t)since, "until", (json_int_t)until));
	json_object_set_new(doc, "manifest",
		json_pack("{s:I, s:o, s:o, s:I}", "serial", (json_int_t)m->serial, "manifest_hash",
			hexs(m->hash, LM_HASH_LEN), "issuer", hexs(m->issuer_pk, LM_PK_LEN),
			"licences", (json_int_t)m->count));
	json_object_set_new(doc, "coverage",
		json_pack("{s:s}", "source", c->coverage_source ? c->coverage_source : "none"));
	json_object_set_new(doc, "inputs", inputs);
	json_object_set_new(doc, "summary", sum);
	json_object_set_new(doc, "chips", chips);
	json_object_set_new(doc, "unlicensed", json_pack("{s:i, s:[]}", "chips", 0, "keys"));
	return doc;
fail:
	json_decref(chips);
	json_decref(inputs);
	errno = ENOMEM;
	return NULL;
}

json_t *
lm_report_build(
	struct lm_report_intake *in, const struct lm_report_conf *c, char *err, size_t errlen)
{
	size_t nl = lm_licence_set_count(in->set), i;
	struct lm_place_cache *pc = lm_place_cache_create();
	struct lic_state *ls = calloc(nl ? nl : 1, sizeof(*ls));
	struct lm_report_chip *rc_chips = calloc(nl ? nl : 1, sizeof(*rc_chips));
	json_t *doc = NULL, *inputs, *ul;
	int rc = -ENOMEM;

	snprintf(err, errlen, "out of memory");
	if (pc == NULL || ls == NULL || rc_chips == NULL) {
		goto fail;
	}
	rc = collect(in, pc, ls, err, errlen);
	if (rc != 0) {
		goto fail;
	}
	revoked_by_lists(in, c, in->revoked);
	for (i = 0; i < nl; i++) {
		struct lm_status_input *si = &rc_chips[i].in;

		si->coverable = c->coverable == NULL || c->coverable[i];
		si->revoked = in->revoked[i];
		si->clone = ls[i].clone;
		si->proofs = ls[i].proofs;
		si->n_proofs = ls[i].n;
		memcpy(rc_chips[i].clone_evidence, ls[i].clone_ev, sizeof(ls[i].clone_ev));
	}
	doc = lm_report_build_from(in->set, rc_chips, in->since, in->until, c, err, errlen);
	if (doc == NULL) {
		rc = -errno;
		goto fail;
	}
	rc = -ENOMEM;
	inputs = json_object_get(doc, "inputs");
	json_object_set_new(inputs, "records_offered", json_integer((json_int_t)in->st.offered));
	json_object_set_new(inputs, "records_used", json_integer((json_int_t)in->st.kept));
	json_object_set_new(
		inputs, "records_outside_period", json_integer((json_int_t)in->st.outside));
	json_object_set_new(
		inputs, "records_revoked_key", json_integer((json_int_t)in->st.revoked));
	json_object_set_new(inputs, "landmark_records", json_integer((json_int_t)in->st.landmark));
	ul = json_array();
	for (i = 0; i < in->cap; i++) {
		if (in->tab[i].used && in->tab[i].lic == SIZE_MAX &&
			json_array_size(ul) < LM_REPORT_MAX_UNLICENSED) {
			json_array_append_new(ul, hexs(in->tab[i].key, LM_PK_LEN));
		}
	}
	json_object_set_new(doc, "unlicensed",
		json_pack("{s:I, s:o}", "chips", (json_int_t)in->n_unlicensed_keys, "keys", ul));
	rc = 0;
fail:
	for (i = 0; ls != NULL && i < nl; i++) {
		free(ls[i].proofs);
	}
	free(ls);
	free(rc_chips);
	lm_place_cache_destroy(pc);
	if (rc != 0) {
		json_decref(doc);
		errno = -rc;
		return NULL;
	}
	return doc;
}
