/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of isles-consoled's capped console.log (src/consoled/
 * conlog.c), on memfds and temporary files: past the cap the file keeps
 * the newest output, starting at a line, and never grows beyond the cap;
 * an existing oversized log is cut when taken over; fds that cannot be
 * used are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "consoled/conlog.h"

#define STREAM_LEN	(3u << 20)

static uint8_t *stream;		/* what the "guest" prints, in order */

/* Lines of 1 to 200 characters, numbered so that no two are alike. */
static void
make_stream(void)
{
	uint64_t s = 88172645463325252ull;
	size_t n = 0, line = 0;

	stream = malloc(STREAM_LEN);
	assert_non_null(stream);
	while (n < STREAM_LEN) {
		char buf[256];
		int len;
		size_t extra;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		extra = s % 190;
		len = snprintf(buf, sizeof(buf), "line %zu ", line++);
		memset(buf + len, 'a' + (int)(line % 26), extra);
		buf[len + (int)extra] = '\n';
		len += (int)extra + 1;
		if ((size_t)len > STREAM_LEN - n)
			len = (int)(STREAM_LEN - n);
		memcpy(stream + n, buf, (size_t)len);
		n += (size_t)len;
	}
}

static uint8_t *
file_contents(int fd, size_t *len)
{
	struct stat st;
	uint8_t *buf;

	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, *len, 0), (ssize_t)*len);
	return buf;
}

static off_t
file_size(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

/* The file must be the newest bytes of stream[0, written), from a line. */
static void
assert_newest(int fd, size_t written, size_t min_kept)
{
	size_t len;
	uint8_t *got = file_contents(fd, &len);

	assert_true(len <= written);
	assert_true(len >= min_kept);
	assert_memory_equal(got, stream + written - len, len);
	if (len < written)
		assert_int_equal(stream[written - len - 1], '\n');
	free(got);
}

/* Writes of random sizes, far past the cap, on a memfd. */
static void
test_cap_keeps_newest(void **state)
{
	static const uint64_t caps[] = { CLOG_MIN_MAX, 256u * 1024u, 1u << 20 };
	uint64_t s = 0x2545f4914f6cdd1dull;

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		int fd = memfd_create("console.log", MFD_CLOEXEC);
		struct clog l;
		size_t done = 0;
		uint64_t cuts = 0;

		assert_true(fd >= 0);
		assert_int_equal(clog_open(&l, fd, caps[c]), 0);
		while (done < STREAM_LEN) {
			size_t n;
			off_t before = file_size(fd);

			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			n = 1 + s % 4096;
			if (n > STREAM_LEN - done)
				n = STREAM_LEN - done;
			assert_int_equal(clog_write(&l, stream + done, n), 0);
			done += n;
			assert_true((uint64_t)file_size(fd) <= caps[c]);
			assert_int_equal((uint64_t)file_size(fd), l.size);
			if (file_size(fd) < before + (off_t)n)
				cuts++;
		}
		/* Cut about once per half cap written, to about half of it. */
		assert_true(cuts >= STREAM_LEN / caps[c]);
		assert_newest(fd, done, caps[c] / 2 - 4096 - 256);
		close(fd);
	}
}

/* One write larger than the cap leaves its newest cap bytes. */
static void
test_huge_write(void **state)
{
	int fd = memfd_create("console.log", MFD_CLOEXEC);
	struct clog l;
	size_t len;
	uint8_t *got;

	(void)state;
	assert_int_equal(clog_open(&l, fd, CLOG_MIN_MAX), 0);
	assert_int_equal(clog_write(&l, stream, 1000), 0);
	assert_int_equal(clog_write(&l, stream + 1000, 200000), 0);
	got = file_contents(fd, &len);
	assert_int_equal(len, CLOG_MIN_MAX);
	assert_memory_equal(got, stream + 201000 - CLOG_MIN_MAX, len);
	free(got);
	close(fd);
}

/*
 * The supervisor's fd on an existing file (a restarted consoled, or a log
 * larger than a lowered cap): taken over where it ends, cut if it is over
 * the cap.  Opened O_APPEND, under which Linux's pwrite would ignore the
 * offset: clog_open must clear it or the cut would append.
 */
static void
test_existing_file_and_append_flag(void **state)
{
	char path[] = "/tmp/isles-clog-XXXXXX";
	int tmp = mkstemp(path);
	int fd;
	struct clog l;

	(void)state;
	assert_true(tmp >= 0);
	assert_int_equal(write(tmp, stream, 300000), 300000);
	close(tmp);
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(clog_open(&l, fd, 256u * 1024u), 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_APPEND, 0);
	assert_true(file_size(fd) <= 128 * 1024);
	assert_newest(fd, 300000, 128 * 1024 - 256);
	for (size_t done = 300000; done < 1000000; done += 1000) {
		assert_int_equal(clog_write(&l, stream + done, 1000), 0);
		assert_true(file_size(fd) <= 256 * 1024);
	}
	assert_newest(fd, 1000000, 128 * 1024 - 1000 - 256);
	close(fd);
	/* A second taker continues at the end. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_int_equal(clog_open(&l, fd, 256u * 1024u), 0);
	assert_int_equal(l.size, (uint64_t)file_size(fd));
	assert_int_equal(clog_write(&l, stream + 1000000, 500), 0);
	assert_newest(fd, 1000500, 1000);
	close(fd);
	unlink(path);
}

/* Without newlines, the cut keeps exactly the newest bytes. */
static void
test_no_newlines(void **state)
{
	int fd = memfd_create("console.log", MFD_CLOEXEC);
	static uint8_t junk[200000];
	struct clog l;
	size_t len;
	uint8_t *got;

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)('A' + i % 23);
	assert_int_equal(clog_open(&l, fd, CLOG_MIN_MAX), 0);
	for (size_t i = 0; i < sizeof(junk); i += 100)
		assert_int_equal(clog_write(&l, junk + i, 100), 0);
	got = file_contents(fd, &len);
	assert_true(len <= CLOG_MIN_MAX && len >= CLOG_MIN_MAX / 2 - 100);
	assert_memory_equal(got, junk + sizeof(junk) - len, len);
	free(got);
	close(fd);
}

static void
test_refused(void **state)
{
	char path[] = "/tmp/isles-clog-XXXXXX";
	int tmp = mkstemp(path), fd, p[2];
	struct clog l;

	(void)state;
	assert_true(tmp >= 0);
	close(tmp);
	/* Write-only: the cut needs to read. */
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_int_equal(clog_open(&l, fd, CLOG_MIN_MAX), -1);
	assert_int_equal(errno, EBADF);
	close(fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_int_equal(clog_open(&l, fd, CLOG_MIN_MAX - 1), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(clog_open(&l, p[1], CLOG_MIN_MAX), -1);
	assert_int_equal(errno, EINVAL);
	close(p[0]);
	close(p[1]);
	/* No log: writes succeed and go nowhere. */
	l.fd = -1;
	assert_int_equal(clog_write(&l, "x", 1), 0);
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	make_stream();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(stream);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_keeps_newest),
		cmocka_unit_test(test_huge_write),
		cmocka_unit_test(test_existing_file_and_append_flag),
		cmocka_unit_test(test_no_newlines),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
