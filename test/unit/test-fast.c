/*
 * Unit tests of the fast paths promrun-push's remote write took on
 * (PERFORMANCE.md): each must give exactly what the plain way gives.
 * The parser's decimals against strtod, bit for bit; the series writer
 * near its buffer's cap against the piece-wise writer; a file read whole
 * (fs_read_all) from a file and a pipe, at and past the cap; the map's
 * hashed lookups; the state file's lines, read back and written again.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/hmap.h"
#include "metrics/expfmt.h"
#include "push/grouping.h"
#include "push/series.h"
#include "push/state.h"

struct value_seen {
	double value;
	int samples;
};

static int
on_value(void *ctx, const struct expfmt_sample *s)
{
	struct value_seen *v = ctx;

	v->value = s->value;
	v->samples++;
	return 0;
}

/* The parser reads word as strtod does (word is in its grammar). */
static int
reads_as_strtod(const char *word)
{
	const struct expfmt_handler h = {NULL, on_value, NULL};
	struct expfmt_handler hv = h;
	struct value_seen v = {0, 0};
	char text[128];
	double want = strtod(word, NULL);
	int n;

	hv.ctx = &v;
	n = snprintf(text, sizeof(text), "x %s\n", word);
	if (n <= 0 || (size_t)n >= sizeof(text) ||
	    expfmt_parse(text, (size_t)n, "t", 0, &hv, NULL, NULL) != 0 ||
	    v.samples != 1)
		return 0;
	if (memcmp(&v.value, &want, sizeof(want)) != 0) {
		fprintf(stderr, "%s: parser %.17g, strtod %.17g\n", word,
		    v.value, want);
		return 0;
	}
	return 1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned
draw(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static void
test_decimals(void)
{
	static const char *const edges[] = {
		"0", "-0", "+0", "0.0", "-0.0", ".5", "5.", "-.5", "0.1", "0.2",
		"0.3", "1.5", "12.5", "123456789012345678",
		"1234567890123456789", "12345678901234567890",
		"9007199254740992", "9007199254740993", "9007199254740994",
		"-9007199254740993", "900719925474099.3", "0.9007199254740993",
		"1e22", "1e23", "1e-22", "1e-23", "9e22", "1.5e21", "1E+3",
		"1e-5", "2.5E-3", "1e308", "1e-308", "4.9e-324", "1e0",
		"0001.25000", "0.000000000000000000001", "1e0000", "1e00022",
		"123.456e-7", "1234567890123456.7", "3.141592653589793",
		"2.718281828459045", "0.30000000000000004", "1696000000.5",
		"1700000000123", "17000000001.23456", "99999999999999999",
	};
	char word[64];
	size_t i, len, j;
	int ok = 1;

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		CHECK(reads_as_strtod(edges[i]));
	/* Random decimals of every shape the fast path takes or passes on. */
	for (i = 0; i < 200000 && ok; i++) {
		len = 0;
		if (draw(4) == 0)
			word[len++] = draw(2) ? '-' : '+';
		for (j = draw(21); j > 0; j--)
			word[len++] = (char)('0' + draw(10));
		if (draw(2)) {
			word[len++] = '.';
			for (j = draw(21); j > 0; j--)
				word[len++] = (char)('0' + draw(10));
		}
		if (len == 0 || word[len - 1] == '.' || word[len - 1] == '-' ||
		    word[len - 1] == '+')
			word[len++] = (char)('0' + draw(10));
		if (draw(4) == 0)
			len += (size_t)snprintf(word + len, sizeof(word) - len,
			    "e%d", (int)draw(61) - 30);
		word[len] = '\0';
		if (word[0] == '.' && len == 1)
			continue;
		ok = reads_as_strtod(word);
	}
	CHECK(ok);
}

static void
test_series_writer(void)
{
	const struct expfmt_label l[] = {{"a", "q\"u\\o\nte"}, {"b", "\xc3\xa9"},
	    {"c", ""}};
	struct buf want = BUF_INIT(4096), b;
	size_t max;

	CHECK(expfmt_write_series(&want, "m", l, 3) == 0);
	CHECK_STR(buf_str(&want), "m{a=\"q\\\"u\\\\o\\nte\",b=\"\xc3\xa9\",c=\"\"}");
	CHECK(expfmt_write_series(&want, "x", NULL, 0) == 0);
	CHECK_STR(buf_str(&want), "m{a=\"q\\\"u\\\\o\\nte\",b=\"\xc3\xa9\",c=\"\"}x");
	/* At every cap from what it needs down: exact, or refused whole. */
	for (max = want.len - 1 + 16; max >= want.len - 2; max--) {
		buf_init(&b, max);
		if (max >= want.len - 1) {
			CHECK(expfmt_write_series(&b, "m", l, 3) == 0);
			CHECK(b.len == want.len - 1 &&
			    memcmp(b.p, want.p, b.len) == 0);
		} else {
			CHECK(expfmt_write_series(&b, "m", l, 3) == PERR_LIMIT);
			CHECK(b.len == 0);
		}
		buf_free(&b);
	}
	buf_free(&want);
	/* More labels than the writer keeps lengths for, escapes at the ends. */
	{
		static const char *const values[] = {"\\", "a\"", "\nb", "",
		    "plain", "\"\"\\\n"};
		static const char *const escaped[] = {"\\\\", "a\\\"",
		    "\\nb", "", "plain", "\\\"\\\"\\\\\\n"};
		struct expfmt_label many[20];
		char names[20][8];
		size_t i;

		buf_init(&want, 4096);
		buf_init(&b, 4096);
		CHECK(buf_adds(&want, "y{") == 0);
		for (i = 0; i < 20; i++) {
			snprintf(names[i], sizeof(names[i]), "l%zu", i);
			many[i].name = names[i];
			many[i].value = values[i % 6];
			CHECK(buf_addf(&want, "%sl%zu=\"%s\"", i ? "," : "", i,
			    escaped[i % 6]) == 0);
		}
		CHECK(buf_addc(&want, '}') == 0);
		CHECK(expfmt_write_series(&b, "y", many, 20) == 0);
		CHECK_STR(buf_str(&b), buf_str(&want));
		buf_free(&b);
		buf_free(&want);
	}
}

static void
test_read_all(void)
{
	char path[] = "/tmp/promrun-test-fast-XXXXXX", big[100000];
	struct buf b;
	int fd, pipefd[2];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	/* The whole file, after what the buffer held. */
	buf_init(&b, 1 << 20);
	CHECK(buf_adds(&b, "head") == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && fs_read_all(fd, &b) == 0);
	CHECK(b.len == 4 + sizeof(big) && memcmp(b.p + 4, big, sizeof(big)) ==
	    0 && b.p[b.len] == '\0');
	buf_free(&b);
	/* Exactly at the cap fits; a byte more does not, and frees. */
	buf_init(&b, sizeof(big));
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && fs_read_all(fd, &b) == 0 &&
	    b.len == sizeof(big));
	buf_free(&b);
	buf_init(&b, sizeof(big) - 1);
	CHECK(lseek(fd, 0, SEEK_SET) == 0 &&
	    fs_read_all(fd, &b) == PERR_LIMIT && b.len == 0 && b.p == NULL);
	buf_free(&b);
	close(fd);
	unlink(path);
	/* A pipe: read until its end. */
	CHECK(pipe(pipefd) == 0);
	CHECK(write(pipefd[1], big, 50000) == 50000);
	close(pipefd[1]);
	buf_init(&b, 1 << 20);
	CHECK(fs_read_all(pipefd[0], &b) == 0 && b.len == 50000 &&
	    memcmp(b.p, big, 50000) == 0);
	close(pipefd[0]);
	buf_free(&b);
}

static void
test_hmap(void)
{
	struct hmap m = HMAP_INIT;
	char key[64];
	const char *stored;
	size_t i, *slot, v;
	uint64_t h;
	bool found;
	int ok = 1;

	/* Keys of every length to past two words, each its own. */
	for (i = 0; i < 5000 && ok; i++) {
		snprintf(key, sizeof(key), "%.*s%zu", (int)(i % 40),
		    "series_name{label=\"value\",other=\"x\"}", i);
		h = hmap_hash(key, strlen(key));
		ok = hmap_upsert_hashed(&m, h, key, strlen(key), &slot, &found,
		    &stored) == 0 && !found && strcmp(stored, key) == 0;
		if (ok)
			*slot = i;
	}
	CHECK(ok && m.count == 5000);
	for (i = 0; i < 5000 && ok; i++) {
		snprintf(key, sizeof(key), "%.*s%zu", (int)(i % 40),
		    "series_name{label=\"value\",other=\"x\"}", i);
		ok = hmap_find(&m, key, strlen(key), &v) && v == i &&
		    hmap_find_hashed(&m, hmap_hash(key, strlen(key)), key,
		    strlen(key), &v) && v == i;
	}
	CHECK(ok);
	CHECK(!hmap_find(&m, "series_name", 11, NULL));
	CHECK(hmap_hash("abcdefgh1", 9) != hmap_hash("abcdefgh2", 9));
	CHECK(hmap_hash("", 0) != hmap_hash("\0", 1));
	hmap_free(&m);
}

/*
 * The series trust the parser's names and check only a group's that did
 * not come through push_group_add; such a name is still refused.
 */
static void
test_series_names(void)
{
	struct series_set set;
	struct push_group g;
	struct perr e;

	push_group_init(&g, "j");
	g.labels[0].name = "__bad";
	g.labels[0].value = "v";
	g.nlabels = 1;
	series_set_init(&set);
	CHECK(series_set_add(&set, "x 1\n", 4, "t", &g, 0, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "t:1: label name \"__bad\" of x is not one remote "
	    "write accepts") == e.msg);
	series_set_free(&set);
	g.labels[0].name = "a-b";
	series_set_init(&set);
	CHECK(series_set_add(&set, "x 1\n", 4, "t", &g, 0, &e) ==
	    PERR_INVALID);
	series_set_free(&set);
	/* A group through push_group_add: the series are built. */
	push_group_init(&g, "j");
	CHECK(push_group_add(&g, "instance", "h", NULL) == 0);
	series_set_init(&set);
	CHECK(series_set_add(&set, "x{a=\"1\"} 1\n", 11, "t", &g, 0, &e) ==
	    0 && set.nseries == 1);
	CHECK_STR(set.series[0].key, "x{a=\"1\",instance=\"h\",job=\"j\"}");
	series_set_free(&set);
}

/*
 * A set's first text keeps its keys out of the map until something needs
 * them: a series that is another only by a label the group has too is
 * still refused, after it or before it, and so is one from a second text.
 */
static void
test_series_keys(void)
{
	static const char before[] = "x{k=\"1\"} 1\nx{job=\"j\",k=\"1\"} 2\n";
	static const char after[] = "x{job=\"j\",k=\"1\"} 1\nx{k=\"1\"} 2\n";
	struct series_set set;
	struct push_group g;
	struct perr e;
	size_t i;

	push_group_init(&g, "j");
	series_set_init(&set);
	CHECK(series_set_add(&set, before, strlen(before), "t", &g, 0, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "t:2: x{job=\"j\",k=\"1\"} is the same series as "
	    "line 1 ") == e.msg);
	series_set_free(&set);
	series_set_init(&set);
	CHECK(series_set_add(&set, after, strlen(after), "t", &g, 0, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "t:2: x{job=\"j\",k=\"1\"} is the same series as "
	    "line 1 ") == e.msg);
	series_set_free(&set);
	series_set_init(&set);
	CHECK(series_set_add(&set, "y 1\nz 2\n", 8, "t", &g, 0, &e) == 0);
	CHECK(series_set_add(&set, "w 3\ny 4\n", 8, "u", &g, 0, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "u:2: y{job=\"j\"} is the same series as line 1 ") ==
	    e.msg);
	CHECK(series_find(&set, "z{job=\"j\"}", 10, &i) && i == 1);
	CHECK(series_find(&set, "w{job=\"j\"}", 10, &i) && i == 2);
	CHECK(!series_find(&set, "v{job=\"j\"}", 10, &i));
	series_set_free(&set);
}

/*
 * dir/x.state dumped as want, and read back: every series of set in its
 * place, each record bit for bit.
 */
static void
check_state_back(const char *dir, const struct series_set *set,
    const struct state_rec *recs, const struct buf *want)
{
	struct buf got = BUF_INIT(1 << 20);
	const struct state_rec *prev[5];
	struct push_state st;
	char path[256];
	struct perr e;
	size_t i;

	snprintf(path, sizeof(path), "%s/x.state", dir);
	CHECK(state_dump(path, &got, &e) == 0);
	CHECK(got.len == want->len && memcmp(got.p, want->p, got.len) == 0);
	CHECK(state_open(&st, dir, "x.state", "dest", &e) == 0 && st.n == 5);
	CHECK(state_match(&st, set, prev, &e) == 0);
	for (i = 0; i < 5; i++)
		CHECK(prev[i] != NULL && prev[i]->ts == recs[i].ts &&
		    prev[i]->start == recs[i].start &&
		    memcmp(&prev[i]->value, &recs[i].value, 8) == 0);
	state_close(&st);
	buf_free(&got);
}

/*
 * The state file as "%lld %lld %016llx KEY" lines would have it, line
 * for line (a key past the writer's 64 KiB pieces included), as state_dump
 * shows version 2, and read back to the same records; version 1's text
 * read too.
 */
static void
test_state_file(void)
{
	static const struct state_rec recs[] = {{1700000000123LL, 0, 1.5},
	    {1700000000123LL, 0, -0.0}, {-5, -1700000000000LL, NAN},
	    {0, 9223372036854775807LL, 1e300}, {1, 1, 2.0}};
	char dir[] = "/tmp/promrun-test-state-XXXXXX", path[256];
	struct buf text = BUF_INIT(1 << 20), want = BUF_INIT(1 << 20);
	struct buf got = BUF_INIT(1 << 20);
	struct series_set set;
	struct push_state st;
	struct perr e;
	uint64_t bits;
	size_t i;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	for (i = 0; i < 4; i++)
		CHECK(buf_addf(&text, "m{i=\"%zu\"} 1\n", i) == 0);
	/* The fifth: a key past 64 KiB. */
	CHECK(buf_adds(&text, "n{v=\"") == 0);
	for (i = 0; i < 70000 && buf_addc(&text, (char)('a' + i % 26)) == 0;
	    i++)
		;
	CHECK(i == 70000 && buf_adds(&text, "\"} 2\n") == 0);
	series_set_init(&set);
	CHECK(series_set_add(&set, text.p, text.len, "t", NULL, 0, &e) == 0);
	CHECK(set.nseries == 5 && set.series[4].key_len > 70000);
	if (set.nseries != 5)
		return;
	CHECK(buf_addf(&want, "promrun-push-state 1 dest\n") == 0);
	for (i = 0; i < 5; i++) {
		memcpy(&bits, &recs[i].value, sizeof(bits));
		CHECK(buf_addf(&want, "%lld %lld %016llx ", recs[i].ts,
		    recs[i].start, (unsigned long long)bits) == 0);
		CHECK(buf_add(&want, set.series[i].key, set.series[i].key_len) ==
		    0 && buf_addc(&want, '\n') == 0);
	}
	CHECK(state_open(&st, dir, "x.state", "dest", &e) == 0);
	CHECK(state_commit(&st, &set, recs, &e) == 0);
	state_close(&st);
	snprintf(path, sizeof(path), "%s/x.state", dir);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fs_read_all(fd, &got) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(got.len > 26 && memcmp(got.p, "promrun-push-state 2 dest\n", 26) ==
	    0);
	check_state_back(dir, &set, recs, &want);
	/* Version 1's text is read the same, and dumped as it is. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, want.p, want.len) == (ssize_t)want.len);
	if (fd >= 0)
		close(fd);
	check_state_back(dir, &set, recs, &want);
	/* Version 2 damaged: a byte of its block changed, or cut short. */
	CHECK(state_open(&st, dir, "x.state", "dest", &e) == 0);
	CHECK(state_commit(&st, &set, recs, &e) == 0);
	state_close(&st);
	buf_reset(&got);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && fs_read_all(fd, &got) == 0 && got.len > 40);
	if (fd >= 0 && got.len > 40) {
		got.p[30] ^= 1;
		CHECK(pwrite(fd, got.p + 30, 1, 30) == 1);
		CHECK(state_open(&st, dir, "x.state", "dest", &e) ==
		    PERR_CORRUPT && strstr(e.msg, "damaged (its checksum does "
		    "not match)") != NULL);
		state_close(&st);
		got.p[30] ^= 1;
		CHECK(pwrite(fd, got.p + 30, 1, 30) == 1 &&
		    ftruncate(fd, (off_t)got.len - 5) == 0);
		CHECK(state_open(&st, dir, "x.state", "dest", &e) ==
		    PERR_CORRUPT && strstr(e.msg, "damaged") != NULL);
		state_close(&st);
		CHECK(pwrite(fd, got.p, got.len, 0) == (ssize_t)got.len);
	}
	if (fd >= 0)
		close(fd);
	/* A new file a killed push left beside the state is removed. */
	snprintf(path, sizeof(path), "%s/.x.state.1.0123abcd.tmp", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(state_open(&st, dir, "x.state", "dest", &e) == 0 &&
	    access(path, F_OK) != 0);
	/* state_write's file goes when the state is closed without state_put. */
	CHECK(state_write(&st, &set, recs, &e) == 0 && st.pending != NULL);
	state_close(&st);
	CHECK(state_open(&st, dir, "x.state", "dest", &e) == 0 && st.n == 5);
	state_close(&st);
	/* Another destination's file is refused. */
	CHECK(state_open(&st, dir, "x.state", "other", &e) == PERR_CORRUPT);
	state_close(&st);
	snprintf(path, sizeof(path), "%s/x.state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/x.state.lock", dir);
	unlink(path);
	rmdir(dir);
	series_set_free(&set);
	buf_free(&text);
	buf_free(&want);
	buf_free(&got);
}

int
main(void)
{
	test_decimals();
	test_series_writer();
	test_read_all();
	test_hmap();
	test_series_names();
	test_series_keys();
	test_state_file();
	return check_done("test-fast");
}
